using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Two workspace triggers: a stale <c>next_start_at</c> is cleared when the autostart schedule
/// changes or the workspace is dormant, and agent names are unique among the live agents of one
/// workspace build.
/// </summary>
/// <remarks>Every object the functions name is schema-qualified; see <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>.</remarks>
[Migration(2026_02_16_0005, "Add next-start reset and agent name uniqueness triggers for workspaces")]
internal sealed class M2026_02_16_0005_AddWorkspaceTriggers : SchemaMigration
{
    /// <summary>
    /// The trigger name on <c>workspaces</c>: coderd's longer name cut to PostgreSQL's 63-byte limit,
    /// written cut so that what we create is what we wrote.
    /// </summary>
    public const string NextStartTrigger = "trigger_nullify_next_start_at_on_workspace_autostart_modificati";

    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE FUNCTION public.nullify_next_start_at_on_workspace_autostart_modification() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- Plain <> and =: a NULL on either side means "no change" here, as in coderd.
                IF (NEW.autostart_schedule <> OLD.autostart_schedule AND NEW.next_start_at = OLD.next_start_at)
                   OR (NEW.dormant_at IS NOT NULL AND NEW.next_start_at IS NOT NULL) THEN
                    -- This fires the trigger once more, and then nothing matches.
                    UPDATE public.workspaces SET next_start_at = NULL WHERE id = NEW.id;
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql($"""
            CREATE TRIGGER {NextStartTrigger} AFTER UPDATE ON public.workspaces
                FOR EACH ROW EXECUTE FUNCTION public.nullify_next_start_at_on_workspace_autostart_modification()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.check_workspace_agent_name_unique() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            DECLARE
                build_job_id uuid;
                taken bigint;
            BEGIN
                SELECT b.job_id INTO build_job_id
                    FROM public.workspace_resources AS r
                    JOIN public.workspace_builds AS b ON b.job_id = r.job_id
                    WHERE r.id = NEW.resource_id
                    LIMIT 1;
                -- Not a workspace build's resource (a template import), or no resource at all (the
                -- foreign key reports that).
                IF NOT FOUND THEN
                    RETURN NEW;
                END IF;

                SELECT count(*) INTO taken
                    FROM public.workspace_agents AS a
                    JOIN public.workspace_resources AS r ON r.id = a.resource_id
                    WHERE r.job_id = build_job_id
                      AND a.name = NEW.name
                      AND a.id <> NEW.id
                      AND a.deleted = false;
                IF taken > 0 THEN
                    RAISE EXCEPTION 'workspace agent name "%" already exists in this workspace build', NEW.name
                        USING ERRCODE = 'unique_violation';
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER workspace_agent_name_unique_trigger BEFORE INSERT OR UPDATE OF name, resource_id ON public.workspace_agents
                FOR EACH ROW EXECUTE FUNCTION public.check_workspace_agent_name_unique()
            """);
        Execute.Sql("""
            COMMENT ON TRIGGER workspace_agent_name_unique_trigger ON public.workspace_agents IS
                'Agent names must be unique among the live agents of one workspace build. A trigger rather than a unique index, because rows written before the rule may break it.'
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP TRIGGER workspace_agent_name_unique_trigger ON public.workspace_agents");
        Execute.Sql("DROP FUNCTION public.check_workspace_agent_name_unique()");
        Execute.Sql($"DROP TRIGGER {NextStartTrigger} ON public.workspaces");
        Execute.Sql("DROP FUNCTION public.nullify_next_start_at_on_workspace_autostart_modification()");
    }
}

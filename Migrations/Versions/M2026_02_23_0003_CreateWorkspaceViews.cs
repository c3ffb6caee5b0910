using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The workspace views: builds with their initiator's names, each live workspace's latest build,
/// the builds and workspaces of the prebuilds system user, and workspaces with their owner's,
/// organization's, template's and ACL entries' names.
/// </summary>
/// <remarks><c>workspace_prebuilds</c> reads <c>workspace_latest_builds</c>, so it comes after it.</remarks>
[Migration(2026_02_23_0003, "Create the workspace build, latest build, prebuild and expanded workspace views")]
internal sealed class M2026_02_23_0003_CreateWorkspaceViews : SchemaMigration
{
    /// <summary>The fixed id of coderd's prebuilds system user, which owns and starts prebuilt workspaces.</summary>
    public const string PrebuildsUserId = "c42fdf75-3097-471c-8c33-fb52454d81c0";

    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE VIEW public.workspace_build_with_user AS
                SELECT
                    workspace_builds.id,
                    workspace_builds.created_at,
                    workspace_builds.updated_at,
                    workspace_builds.workspace_id,
                    workspace_builds.template_version_id,
                    workspace_builds.build_number,
                    workspace_builds.transition,
                    workspace_builds.initiator_id,
                    workspace_builds.job_id,
                    workspace_builds.deadline,
                    workspace_builds.reason,
                    workspace_builds.daily_cost,
                    workspace_builds.max_deadline,
                    workspace_builds.template_version_preset_id,
                    workspace_builds.has_ai_task,
                    workspace_builds.has_external_agent,
                    COALESCE(visible_users.avatar_url, ''::text) AS initiator_by_avatar_url,
                    COALESCE(visible_users.username, ''::text) AS initiator_by_username,
                    COALESCE(visible_users.name, ''::text) AS initiator_by_name
                FROM public.workspace_builds
                LEFT JOIN public.visible_users ON visible_users.id = workspace_builds.initiator_id
            """);
        Execute.Sql("""
            COMMENT ON VIEW public.workspace_build_with_user IS
                'Every workspace build, without its provisioner state, with its initiator''s avatar URL, username and name (empty strings when the initiator is unknown).'
            """);

        // The latest build is the highest build_number, not the newest created_at.
        Execute.Sql("""
            CREATE VIEW public.workspace_latest_builds AS
                SELECT
                    latest.id,
                    latest.workspace_id,
                    latest.template_version_id,
                    latest.job_id,
                    latest.template_version_preset_id,
                    latest.transition,
                    latest.created_at,
                    latest.job_status
                FROM public.workspaces
                LEFT JOIN LATERAL (
                    SELECT
                        workspace_builds.id,
                        workspace_builds.workspace_id,
                        workspace_builds.template_version_id,
                        workspace_builds.job_id,
                        workspace_builds.template_version_preset_id,
                        workspace_builds.transition,
                        workspace_builds.created_at,
                        provisioner_jobs.job_status
                    FROM public.workspace_builds
                    JOIN public.provisioner_jobs ON provisioner_jobs.id = workspace_builds.job_id
                    WHERE workspace_builds.workspace_id = workspaces.id
                    ORDER BY workspace_builds.build_number DESC
                    LIMIT 1
                ) AS latest ON true
                WHERE workspaces.deleted = false
                ORDER BY workspaces.id
            """);

        Execute.Sql($"""
            CREATE VIEW public.workspace_prebuild_builds AS
                SELECT
                    workspace_builds.id,
                    workspace_builds.workspace_id,
                    workspace_builds.template_version_id,
                    workspace_builds.transition,
                    workspace_builds.job_id,
                    workspace_builds.template_version_preset_id,
                    workspace_builds.build_number
                FROM public.workspace_builds
                WHERE workspace_builds.initiator_id = '{PrebuildsUserId}'::uuid
            """);

        Execute.Sql($$"""
            CREATE VIEW public.workspace_prebuilds AS
                WITH latest_presets AS (
                    -- Each workspace's highest-numbered build that names a preset, whoever started it.
                    SELECT DISTINCT ON (workspace_builds.workspace_id)
                        workspace_builds.workspace_id,
                        workspace_builds.template_version_preset_id
                    FROM public.workspace_builds
                    WHERE workspace_builds.template_version_preset_id IS NOT NULL
                    ORDER BY workspace_builds.workspace_id, workspace_builds.build_number DESC
                ),
                agent_readiness AS (
                    -- Ready when the latest build has live agents and every one of them is ready.
                    SELECT
                        workspace_latest_builds.workspace_id,
                        bool_and(workspace_agents.lifecycle_state = 'ready'::public.workspace_agent_lifecycle_state) AS ready
                    FROM public.workspace_latest_builds
                    JOIN public.workspace_resources ON workspace_resources.job_id = workspace_latest_builds.job_id
                    JOIN public.workspace_agents ON workspace_agents.resource_id = workspace_resources.id
                    WHERE workspace_agents.deleted = false
                    GROUP BY workspace_latest_builds.workspace_id
                )
                SELECT
                    workspaces.id,
                    workspaces.name,
                    workspaces.template_id,
                    workspaces.created_at,
                    COALESCE(agent_readiness.ready, false) AS ready,
                    latest_presets.template_version_preset_id AS current_preset_id
                FROM public.workspaces
                JOIN latest_presets ON latest_presets.workspace_id = workspaces.id
                LEFT JOIN agent_readiness ON agent_readiness.workspace_id = workspaces.id
                WHERE workspaces.owner_id = '{{PrebuildsUserId}}'::uuid
            """);

        Execute.Sql("""
            CREATE VIEW public.workspaces_expanded AS
                SELECT
                    workspaces.*,
                    visible_users.avatar_url AS owner_avatar_url,
                    visible_users.username AS owner_username,
                    visible_users.name AS owner_name,
                    organizations.name AS organization_name,
                    organizations.display_name AS organization_display_name,
                    organizations.icon AS organization_icon,
                    organizations.description AS organization_description,
                    templates.name AS template_name,
                    templates.display_name AS template_display_name,
                    templates.icon AS template_icon,
                    templates.description AS template_description,
                    tasks.id AS task_id,
                    -- The ACLs' keys are group and user ids; what each maps to is not looked at.
                    (
                        SELECT COALESCE(jsonb_object_agg(acl.key, jsonb_build_object(
                                   'name', COALESCE(groups.name, ''::text),
                                   'avatar_url', COALESCE(groups.avatar_url, ''::text))),
                               '{}'::jsonb)
                        FROM jsonb_each(workspaces.group_acl) AS acl
                        LEFT JOIN public.groups ON groups.id = acl.key::uuid
                    ) AS group_acl_display_info,
                    (
                        SELECT COALESCE(jsonb_object_agg(acl.key, jsonb_build_object(
                                   'name', COALESCE(acl_users.name, ''::text),
                                   'avatar_url', COALESCE(acl_users.avatar_url, ''::text))),
                               '{}'::jsonb)
                        FROM jsonb_each(workspaces.user_acl) AS acl
                        LEFT JOIN public.visible_users AS acl_users ON acl_users.id = acl.key::uuid
                    ) AS user_acl_display_info
                FROM public.workspaces
                JOIN public.visible_users ON visible_users.id = workspaces.owner_id
                JOIN public.organizations ON organizations.id = workspaces.organization_id
                JOIN public.templates ON templates.id = workspaces.template_id
                LEFT JOIN public.tasks ON tasks.workspace_id = workspaces.id
            """);
        Execute.Sql("""
            COMMENT ON VIEW public.workspaces_expanded IS
                'Every workspace, deleted ones included, with its owner''s, organization''s and template''s display fields, its task if it has one (one row per task), and the names and avatars of the groups and users in its ACLs.'
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP VIEW public.workspaces_expanded");
        Execute.Sql("DROP VIEW public.workspace_prebuilds");
        Execute.Sql("DROP VIEW public.workspace_prebuild_builds");
        Execute.Sql("DROP VIEW public.workspace_latest_builds");
        Execute.Sql("DROP VIEW public.workspace_build_with_user");
    }
}

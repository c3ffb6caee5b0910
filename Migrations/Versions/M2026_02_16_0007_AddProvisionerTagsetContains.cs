using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// <c>provisioner_tagset_contains</c>, the matching rule between a provisioner daemon's tags and a
/// job's tags that coderd's job queries call, and the comment on the <c>tagset</c> domain it takes.
/// </summary>
[Migration(2026_02_16_0007, "Add provisioner_tagset_contains and describe the tagset domain")]
internal sealed class M2026_02_16_0007_AddProvisionerTagsetContains : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            COMMENT ON DOMAIN public.tagset IS
                'Provisioner tags: a jsonb object of string keys and values, matched between provisioner daemons and the jobs they may take.'
            """);
        Execute.Sql("""
            CREATE FUNCTION public.provisioner_tagset_contains(provisioner_tags public.tagset, job_tags public.tagset) RETURNS boolean
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- The tags of an untagged job: only a provisioner with exactly these tags takes it,
                -- so a daemon tagged for something specific is not handed generic work.
                IF job_tags::jsonb = '{"scope": "organization", "owner": ""}'::jsonb THEN
                    RETURN provisioner_tags::jsonb = job_tags::jsonb;
                END IF;
                RETURN job_tags::jsonb <@ provisioner_tags::jsonb;
            END;
            $$
            """);
        Execute.Sql("""
            COMMENT ON FUNCTION public.provisioner_tagset_contains(public.tagset, public.tagset) IS
                'True when a provisioner with provisioner_tags may run a job with job_tags: every job tag is among the provisioner''s tags, except that an untagged job ({"scope": "organization", "owner": ""}) needs a provisioner with exactly those tags. NULL in, NULL out.'
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP FUNCTION public.provisioner_tagset_contains(public.tagset, public.tagset)");
        Execute.Sql("COMMENT ON DOMAIN public.tagset IS NULL");
    }
}

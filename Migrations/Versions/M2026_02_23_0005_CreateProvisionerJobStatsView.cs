using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// <c>provisioner_job_stats</c>: for every workspace build's job, how long it queued, ran and took to
/// cancel, and how long each Terraform stage took, in seconds.
/// </summary>
/// <remarks>
/// It selects job columns it does not group by, which PostgreSQL allows only because it groups by
/// <c>provisioner_jobs.id</c>, the primary key; the view then depends on
/// <c>provisioner_jobs_pkey</c>. Last of the views for that reason.
/// </remarks>
[Migration(2026_02_23_0005, "Create the provisioner_job_stats view")]
internal sealed class M2026_02_23_0005_CreateProvisionerJobStatsView : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        // date_part, not EXTRACT: it gives double precision. GREATEST turns a negative span into 0
        // and, since it skips NULLs, a missing timestamp too.
        Execute.Sql("""
            CREATE VIEW public.provisioner_job_stats AS
                SELECT
                    provisioner_jobs.id AS job_id,
                    provisioner_jobs.job_status,
                    workspace_builds.workspace_id,
                    provisioner_jobs.worker_id,
                    provisioner_jobs.error,
                    provisioner_jobs.error_code,
                    provisioner_jobs.updated_at,
                    GREATEST(date_part('epoch', provisioner_jobs.started_at - provisioner_jobs.created_at), 0) AS queued_secs,
                    GREATEST(date_part('epoch', provisioner_jobs.completed_at - provisioner_jobs.started_at), 0) AS completion_secs,
                    GREATEST(date_part('epoch', provisioner_jobs.canceled_at - provisioner_jobs.started_at), 0) AS canceled_secs,
                    GREATEST(date_part('epoch',
                        max(timings.ended_at) FILTER (WHERE timings.stage = 'init')
                        - min(timings.started_at) FILTER (WHERE timings.stage = 'init')), 0) AS init_secs,
                    GREATEST(date_part('epoch',
                        max(timings.ended_at) FILTER (WHERE timings.stage = 'plan')
                        - min(timings.started_at) FILTER (WHERE timings.stage = 'plan')), 0) AS plan_secs,
                    GREATEST(date_part('epoch',
                        max(timings.ended_at) FILTER (WHERE timings.stage = 'graph')
                        - min(timings.started_at) FILTER (WHERE timings.stage = 'graph')), 0) AS graph_secs,
                    GREATEST(date_part('epoch',
                        max(timings.ended_at) FILTER (WHERE timings.stage = 'apply')
                        - min(timings.started_at) FILTER (WHERE timings.stage = 'apply')), 0) AS apply_secs
                FROM public.provisioner_jobs
                JOIN public.workspace_builds ON workspace_builds.job_id = provisioner_jobs.id
                LEFT JOIN public.provisioner_job_timings AS timings ON timings.job_id = provisioner_jobs.id
                GROUP BY provisioner_jobs.id, workspace_builds.workspace_id
            """);
    }

    /// <inheritdoc/>
    public override void Down() => Execute.Sql("DROP VIEW public.provisioner_job_stats");
}

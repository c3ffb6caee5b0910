using Coderd.Database.Migrations.Versions;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows and timings of <c>provisioner_job_stats</c>
/// (<see cref="M2026_02_23_0005_CreateProvisionerJobStatsView"/>, behavior.md 3.13).
/// </summary>
public sealed class ProvisionerJobStatsViewTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private const string Secs = """
        SELECT concat_ws(' ', queued_secs, completion_secs, canceled_secs, init_secs, plan_secs, graph_secs, apply_secs)
        FROM provisioner_job_stats WHERE job_id = @job
        """;

    private TemplateIds _template = null!;
    private Guid _workspace;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _template = await Builder.TemplateAsync();
        _workspace = await Builder.WorkspaceAsync(_template.Template, _template.Creator);
    }

    [Fact]
    public async Task OnlyJobsOfWorkspaceBuildsAreListedWithTheBuildsWorkspace()
    {
        var (_, job) = await Builder.BuildAsync(_workspace, 1);
        await Builder.JobAsync(_template.Organization, _template.Creator, "template_version_dry_run");
        await Builder.ExecuteAsync(
            "UPDATE provisioner_jobs SET worker_id = gen_random_uuid(), error = 'boom', error_code = 'E1', updated_at = '2024-01-01 00:00:00+00' WHERE id = @job",
            ("job", job));

        Assert.Equal([$"{job} failed {_workspace}"], await Builder.ColumnAsync<string>(
            "SELECT concat_ws(' ', job_id, job_status, workspace_id) FROM provisioner_job_stats"));
        Assert.True(await Builder.ScalarAsync<bool>("""
            SELECT (s.worker_id, s.error, s.error_code, s.updated_at) = (j.worker_id, j.error, j.error_code, j.updated_at)
            FROM provisioner_job_stats AS s JOIN provisioner_jobs AS j ON j.id = s.job_id
            """));
        // Template import jobs (the template's version has one) are absent too.
        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM provisioner_job_stats"));
    }

    [Fact]
    public async Task JobTimesAreSecondsBetweenItsTimestamps()
    {
        var (_, job) = await Builder.BuildAsync(_workspace, 1);
        await Builder.ExecuteAsync("""
            UPDATE provisioner_jobs SET created_at = '2024-01-01 00:00:00+00', started_at = '2024-01-01 00:00:10.5+00',
                                        completed_at = '2024-01-01 00:01:10.5+00', canceled_at = '2024-01-01 00:00:40.5+00'
            WHERE id = @job
            """, ("job", job));

        Assert.Equal("10.5 60 30 0 0 0 0", await Builder.ScalarAsync<string>(Secs, ("job", job)));
    }

    [Fact]
    public async Task MissingOrNegativeSpansAreZero()
    {
        var (_, job) = await Builder.BuildAsync(_workspace, 1);
        // Not started: every span is NULL. Then started before it was created: negative.
        Assert.Equal("0 0 0 0 0 0 0", await Builder.ScalarAsync<string>(Secs, ("job", job)));

        await Builder.ExecuteAsync(
            "UPDATE provisioner_jobs SET created_at = '2024-01-01 00:00:10+00', started_at = '2024-01-01 00:00:00+00' WHERE id = @job", ("job", job));

        Assert.Equal("0 0 0 0 0 0 0", await Builder.ScalarAsync<string>(Secs, ("job", job)));
    }

    [Fact]
    public async Task StageTimeRunsFromItsFirstStartToItsLastEnd()
    {
        var (_, job) = await Builder.BuildAsync(_workspace, 1);
        await TimingAsync(job, "init", "00:00:10", "00:00:15");
        await TimingAsync(job, "init", "00:00:12", "00:00:20");
        await TimingAsync(job, "plan", "00:00:20", "00:00:21.25");
        // apply ends before it starts: 0. graph has no rows: 0.
        await TimingAsync(job, "apply", "00:01:00", "00:00:50");

        Assert.Equal("0 0 0 10 1.25 0 0", await Builder.ScalarAsync<string>(Secs, ("job", job)));
    }

    private Task<Row> TimingAsync(Guid job, string stage, string started, string ended) => Builder.InsertAsync(
        "provisioner_job_timings", ("job_id", job), ("stage", stage), ("started_at", $"2024-01-01 {started}+00"), ("ended_at", $"2024-01-01 {ended}+00"));
}

using Coderd.Database.Migrations.Versions;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows and computed statuses of <c>tasks_with_status</c>
/// (<see cref="M2026_02_23_0004_CreateTaskView"/>, behavior.md 3.12).
/// </summary>
public sealed class TaskViewTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private Guid _org;
    private Guid _owner;
    private Guid _template;
    private Guid _version;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _owner = await Builder.InsertIdAsync("users", ("username", "alice"), ("name", "Alice"), ("avatar_url", "https://a/alice"));
        (_org, _, _template, _version) = await Builder.TemplateAsync(("created_by", _owner));
    }

    /// <summary>
    /// The task app's build (transition and job state), its agent's lifecycle and its app's health
    /// (null: none), then the expected status and the build, agent and app statuses behind it.
    /// </summary>
    public static TheoryData<string, string, string?, string?, string, string, string, string> Statuses { get; } = new()
    {
        { "start", "pending", null, null, "pending", "pending", "initializing", "unknown" },
        { "start", "running", "starting", "initializing", "initializing", "active", "initializing", "initializing" },
        { "start", "succeeded", "created", "healthy", "initializing", "active", "initializing", "active" },
        { "start", "succeeded", null, null, "initializing", "active", "initializing", "unknown" },
        { "start", "succeeded", "ready", "healthy", "active", "active", "active", "active" },
        { "start", "succeeded", "ready", "disabled", "active", "active", "active", "active" },
        { "start", "succeeded", "ready", "initializing", "initializing", "active", "active", "initializing" },
        { "start", "succeeded", "ready", "unhealthy", "error", "active", "active", "error" },
        { "start", "succeeded", "start_timeout", "healthy", "active", "active", "active", "active" },
        { "start", "succeeded", "start_error", null, "unknown", "active", "active", "unknown" },
        { "start", "succeeded", "shutting_down", "healthy", "unknown", "active", "unknown", "active" },
        { "start", "failed", "ready", "healthy", "error", "error", "active", "active" },
        { "start", "canceling", "ready", "healthy", "error", "error", "active", "active" },
        { "start", "canceled", "ready", "healthy", "error", "error", "active", "active" },
        { "delete", "failed", null, null, "error", "error", "initializing", "unknown" },
        { "stop", "succeeded", "off", "healthy", "paused", "paused", "unknown", "active" },
        { "delete", "succeeded", null, null, "paused", "paused", "initializing", "unknown" },
        { "stop", "running", "ready", "healthy", "unknown", "unknown", "active", "active" },
        { "stop", "pending", "ready", "healthy", "unknown", "unknown", "active", "active" },
    };

    [Theory]
    [MemberData(nameof(Statuses))]
    public async Task StatusIsTheFirstPartThatIsNotActive(
        string transition, string job, string? lifecycle, string? health, string status, string build, string agent, string app)
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        var task = await TaskAsync(workspace);
        await TaskAppAsync(task, workspace, 1, transition, job, lifecycle, health);

        Assert.Equal(
            $"{status} | {build} {agent} {app} | {transition} {job} {lifecycle ?? "null"} {health ?? "null"}",
            await Builder.ScalarAsync<string>("""
                SELECT status || ' | '
                       || concat_ws(' ', status_debug #>> '{build,computed}', status_debug #>> '{agent,computed}', status_debug #>> '{app,computed}') || ' | '
                       || concat_ws(' ', status_debug #>> '{build,transition}', status_debug #>> '{build,job_status}',
                                    COALESCE(status_debug #>> '{agent,lifecycle_state}', 'null'), COALESCE(status_debug #>> '{app,health}', 'null'))
                FROM tasks_with_status
                """));
    }

    [Fact]
    public async Task TaskWithoutWorkspaceIsPendingWithComputedDefaults()
    {
        await TaskAsync(null);

        Assert.Equal(
            """pending {"app": {"health": null, "computed": "unknown"}, "agent": {"computed": "initializing", "lifecycle_state": null}, "build": {"computed": "pending", "job_status": null, "transition": null}} {} {}""",
            await Builder.ScalarAsync<string>(
                "SELECT concat_ws(' ', status, status_debug, workspace_group_acl, workspace_user_acl) FROM tasks_with_status"));
    }

    [Fact]
    public async Task TaskWithWorkspaceButNoAppRowIsPending()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        await Builder.BuildAsync(workspace, 1);
        await TaskAsync(workspace);

        Assert.Equal("pending ", await Builder.ScalarAsync<string>(
            "SELECT status || ' ' || concat_ws(' ', workspace_build_number, workspace_agent_id, workspace_app_id) FROM tasks_with_status"));
    }

    [Fact]
    public async Task StatusFollowsTheLatestTaskAppRowsBuildNotTheWorkspacesLatestBuild()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        var task = await TaskAsync(workspace);
        await TaskAppAsync(task, workspace, 1, "start", "failed", null, null);
        var (agent, app) = await TaskAppAsync(task, workspace, 2, "start", "succeeded", "ready", "healthy");
        // A newer build of the workspace without a task app row does not count.
        var (_, job) = await Builder.BuildAsync(workspace, 3);
        await SetJobAsync(job, "failed");

        Assert.Equal($"active 2 {agent} {app} ready healthy", await Builder.ScalarAsync<string>("""
            SELECT concat_ws(' ', status, workspace_build_number, workspace_agent_id, workspace_app_id,
                             workspace_agent_lifecycle_state, workspace_app_health)
            FROM tasks_with_status
            """));
    }

    [Fact]
    public async Task DeletedAgentStillCounts()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        var task = await TaskAsync(workspace);
        await TaskAppAsync(task, workspace, 1, "start", "succeeded", "ready", "healthy");
        await Builder.ExecuteAsync("UPDATE workspace_agents SET deleted = true");

        Assert.Equal("active", await Builder.ScalarAsync<string>("SELECT status::text FROM tasks_with_status"));
    }

    [Fact]
    public async Task DeletedTasksAreLeftOutAndOwnersNamesComeAlong()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        await Builder.ExecuteAsync("""UPDATE workspaces SET group_acl = '{"g": 1}', user_acl = '{"u": 2}' WHERE id = @ws""", ("ws", workspace));
        var live = await TaskAsync(workspace);
        await TaskAsync(workspace, deleted: true);
        var names = await Builder.ScalarAsync<string>("SELECT username || ' ' || name || ' ' || avatar_url FROM users WHERE id = @owner", ("owner", _owner));

        Assert.Equal([$$"""{{live}} {"g": 1} {"u": 2} {{names}}"""], await Builder.ColumnAsync<string>("""
            SELECT concat_ws(' ', id, workspace_group_acl, workspace_user_acl, owner_username, owner_name, owner_avatar_url)
            FROM tasks_with_status
            """));
        Assert.True(await Builder.ScalarAsync<bool>("""
            SELECT (SELECT array_agg(t.*)::text FROM tasks AS t WHERE deleted_at IS NULL)
                 = (SELECT array_agg(v.*)::text FROM (
                        SELECT id, organization_id, owner_id, name, workspace_id, template_version_id, template_parameters, prompt, created_at,
                               deleted_at, display_name
                        FROM tasks_with_status) AS v)
            """));
    }

    private Task<Guid> TaskAsync(Guid? workspace, bool deleted = false) => Builder.InsertIdAsync(
        "tasks", ("organization_id", _org), ("owner_id", _owner), ("workspace_id", workspace), ("template_version_id", _version),
        ("deleted_at", deleted ? new RowBuilder.Sql("now()") : null));

    /// <summary>
    /// Adds build <paramref name="number"/> to the workspace with its job in <paramref name="job"/>
    /// state, an agent and app if asked, and the task's app row naming them; returns the agent and app ids.
    /// </summary>
    private async Task<(Guid? Agent, Guid? App)> TaskAppAsync(
        Guid task, Guid workspace, int number, string transition, string job, string? lifecycle, string? health)
    {
        var (_, jobId) = await Builder.BuildAsync(workspace, number, ("transition", transition));
        await SetJobAsync(jobId, job);
        var resource = await Builder.InsertIdAsync("workspace_resources", ("job_id", jobId));
        Guid? agent = lifecycle is null && health is null
            ? null
            : await Builder.InsertIdAsync("workspace_agents", ("resource_id", resource), ("lifecycle_state", lifecycle ?? "created"));
        Guid? app = health is null ? null : await Builder.InsertIdAsync("workspace_apps", ("agent_id", agent), ("health", health));
        await Builder.InsertAsync(
            "task_workspace_apps", ("task_id", task), ("workspace_agent_id", agent), ("workspace_app_id", app), ("workspace_build_number", number));
        return (agent, app);
    }

    /// <summary>Sets the job's times and error so that its generated <c>job_status</c> is <paramref name="status"/>.</summary>
    private Task<int> SetJobAsync(Guid job, string status) => Builder.ExecuteAsync(status switch
    {
        "pending" => "SELECT @job",
        "running" => "UPDATE provisioner_jobs SET started_at = now() WHERE id = @job",
        "succeeded" => "UPDATE provisioner_jobs SET started_at = now(), completed_at = now() WHERE id = @job",
        "failed" => "UPDATE provisioner_jobs SET started_at = now(), completed_at = now(), error = 'boom' WHERE id = @job",
        "canceling" => "UPDATE provisioner_jobs SET started_at = now(), canceled_at = now() WHERE id = @job",
        "canceled" => "UPDATE provisioner_jobs SET started_at = now(), canceled_at = now(), completed_at = now() WHERE id = @job",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a provisioner_job_status this helper can set"),
    }, ("job", job));
}

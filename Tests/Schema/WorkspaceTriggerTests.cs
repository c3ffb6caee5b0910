using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The workspace triggers of <see cref="M2026_02_16_0005_AddWorkspaceTriggers"/>: the reset of
/// <c>next_start_at</c> and agent name uniqueness within a build (behavior.md 2.13 and 2.14).
/// </summary>
public sealed class WorkspaceTriggerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private const string NextStart = "2030-01-01 08:00:00+00";

    private TemplateIds _template = null!;
    private Guid _workspace;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _template = await Builder.TemplateAsync();
        _workspace = await Builder.WorkspaceAsync(_template.Template, _template.Creator);
        await Builder.ExecuteAsync(
            "UPDATE workspaces SET autostart_schedule = 'CRON_TZ=UTC 0 8 * * *', next_start_at = @next::timestamptz, updated_at = '2020-01-01 00:00:00+00'",
            ("next", NextStart));
    }

    [Fact]
    public async Task ScheduleChangeKeepingNextStartClearsItAfterTheStatement()
    {
        var returned = await Builder.ScalarAsync<DateTime?>(
            "UPDATE workspaces SET autostart_schedule = 'CRON_TZ=UTC 0 9 * * *' WHERE id = @ws RETURNING next_start_at", ("ws", _workspace));

        // RETURNING still shows the value the trigger's own UPDATE then clears; updated_at is left alone.
        Assert.Equal(new DateTime(2030, 1, 1, 8, 0, 0, DateTimeKind.Utc), returned);
        Assert.Equal("cleared 2020", await StateAsync());
    }

    [Fact]
    public async Task ScheduleChangeWithNewNextStartKeepsIt()
    {
        await Builder.ExecuteAsync(
            "UPDATE workspaces SET autostart_schedule = 'CRON_TZ=UTC 0 9 * * *', next_start_at = '2030-01-01 09:00:00+00' WHERE id = @ws",
            ("ws", _workspace));

        Assert.Equal("2030-01-01 09:00 2020", await StateAsync());
    }

    [Fact]
    public async Task ScheduleSetToNullDoesNotCount()
    {
        await Builder.ExecuteAsync("UPDATE workspaces SET autostart_schedule = NULL WHERE id = @ws", ("ws", _workspace));

        Assert.Equal("2030-01-01 08:00 2020", await StateAsync());
    }

    [Fact]
    public async Task ScheduleSetFromNullDoesNotCount()
    {
        await Builder.ExecuteAsync("UPDATE workspaces SET autostart_schedule = NULL WHERE id = @ws", ("ws", _workspace));

        await Builder.ExecuteAsync("UPDATE workspaces SET autostart_schedule = 'CRON_TZ=UTC 0 9 * * *' WHERE id = @ws", ("ws", _workspace));

        Assert.Equal("2030-01-01 08:00 2020", await StateAsync());
    }

    [Fact]
    public async Task OtherUpdatesKeepNextStart()
    {
        await Builder.ExecuteAsync("UPDATE workspaces SET ttl = 3600, autostart_schedule = autostart_schedule WHERE id = @ws", ("ws", _workspace));

        Assert.Equal("2030-01-01 08:00 2020", await StateAsync());
    }

    [Fact]
    public async Task DormantWorkspaceHasNextStartCleared()
    {
        await Builder.ExecuteAsync("UPDATE workspaces SET dormant_at = now() WHERE id = @ws", ("ws", _workspace));
        Assert.Equal("cleared 2020", await StateAsync());

        // Setting it again on a dormant workspace is cleared straight away.
        await Builder.ExecuteAsync("UPDATE workspaces SET next_start_at = '2031-01-01 00:00:00+00' WHERE id = @ws", ("ws", _workspace));
        Assert.Equal("cleared 2020", await StateAsync());
    }

    [Fact]
    public async Task DormantWorkspaceInsertedWithNextStartKeepsItUntilItsFirstUpdate()
    {
        var dormant = await Builder.WorkspaceAsync(
            _template.Template, _template.Creator, ("dormant_at", new RowBuilder.Sql("now()")), ("next_start_at", NextStart));

        Assert.True(await Builder.ScalarAsync<bool>("SELECT next_start_at IS NOT NULL FROM workspaces WHERE id = @ws", ("ws", dormant)));

        await Builder.ExecuteAsync("UPDATE workspaces SET ttl = 1 WHERE id = @ws", ("ws", dormant));

        Assert.True(await Builder.ScalarAsync<bool>("SELECT next_start_at IS NULL FROM workspaces WHERE id = @ws", ("ws", dormant)));
    }

    [Fact]
    public async Task SecondLiveAgentWithSameNameInOneBuildIsUniqueViolation()
    {
        var job = (await Builder.BuildAsync(_workspace, 1)).Job;
        await AgentAsync(await Builder.InsertIdAsync("workspace_resources", ("job_id", job)), "main");
        // Another resource of the same build's job counts too.
        var resource = await Builder.InsertIdAsync("workspace_resources", ("job_id", job));

        await Raised.AssertAsync(() => AgentAsync(resource, "main"), PostgresErrorCodes.UniqueViolation,
            "workspace agent name \"main\" already exists in this workspace build");
    }

    [Fact]
    public async Task AgentInsertedDeletedWithTakenNameIsStillRefused()
    {
        var resource = await ResourceOfBuildAsync(1);
        await AgentAsync(resource, "main");

        await Raised.AssertAsync(() => AgentAsync(resource, "main", deleted: true), PostgresErrorCodes.UniqueViolation,
            "workspace agent name \"main\" already exists in this workspace build");
    }

    [Fact]
    public async Task NameOfDeletedAgentOrOtherCaseIsFree()
    {
        var resource = await ResourceOfBuildAsync(1);
        await AgentAsync(resource, "main", deleted: true);

        await AgentAsync(resource, "main");
        await AgentAsync(resource, "Main");

        Assert.Equal(3L, await Builder.ScalarAsync<long>("SELECT count(*) FROM workspace_agents"));
    }

    [Fact]
    public async Task SameNameInAnotherBuildOfTheWorkspaceIsAccepted()
    {
        await AgentAsync(await ResourceOfBuildAsync(1), "main");

        await AgentAsync(await ResourceOfBuildAsync(2), "main");

        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(*) FROM workspace_agents WHERE name = 'main'"));
    }

    [Fact]
    public async Task ResourceOfJobWithoutBuildIsNotChecked()
    {
        var import = await Builder.JobAsync(_template.Organization, _template.Creator, "template_version_import");
        var resource = await Builder.InsertIdAsync("workspace_resources", ("job_id", import));

        await AgentAsync(resource, "main");
        await AgentAsync(resource, "main");

        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(*) FROM workspace_agents"));
    }

    [Fact]
    public async Task UnknownResourceIsForeignKeyViolation()
    {
        await Rejection.AssertAsync(() => AgentAsync(Guid.NewGuid(), "main"),
            PostgresErrorCodes.ForeignKeyViolation, "workspace_agents_resource_id_fkey", "workspace_agents");
    }

    [Fact]
    public async Task EarlierRowOfTheSameStatementCounts()
    {
        var resource = await ResourceOfBuildAsync(1);

        await Raised.AssertAsync(() => Builder.ExecuteAsync("""
            INSERT INTO workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, architecture, operating_system)
            SELECT gen_random_uuid(), now(), now(), 'twin', @resource, gen_random_uuid(), 'amd64', 'linux' FROM generate_series(1, 2)
            """, ("resource", resource)), PostgresErrorCodes.UniqueViolation, "workspace agent name \"twin\" already exists in this workspace build");
    }

    [Fact]
    public async Task RenamingOrMovingOntoTakenNameIsRefused()
    {
        var resource = await ResourceOfBuildAsync(1);
        await AgentAsync(resource, "main");
        var other = await AgentAsync(resource, "other");
        var elsewhere = await ResourceOfBuildAsync(2);
        var moved = await AgentAsync(elsewhere, "main");

        await Raised.AssertAsync(() => Builder.ExecuteAsync("UPDATE workspace_agents SET name = 'main' WHERE id = @id", ("id", other)),
            PostgresErrorCodes.UniqueViolation, "workspace agent name \"main\" already exists in this workspace build");
        await Raised.AssertAsync(
            () => Builder.ExecuteAsync("UPDATE workspace_agents SET resource_id = @resource WHERE id = @id", ("resource", resource), ("id", moved)),
            PostgresErrorCodes.UniqueViolation, "workspace agent name \"main\" already exists in this workspace build");
    }

    [Fact]
    public async Task UpdateOutsideNameAndResourceIsNotChecked()
    {
        var resource = await ResourceOfBuildAsync(1);
        var first = await AgentAsync(resource, "main", deleted: true);
        await AgentAsync(resource, "main");

        // Bringing the deleted agent back leaves two live agents named "main" in the build.
        await Builder.ExecuteAsync("UPDATE workspace_agents SET deleted = false WHERE id = @id", ("id", first));
        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(*) FROM workspace_agents WHERE name = 'main' AND NOT deleted"));

        // Naming a column in SET fires the check even when its value stays the same.
        await Raised.AssertAsync(() => Builder.ExecuteAsync("UPDATE workspace_agents SET name = name WHERE id = @id", ("id", first)),
            PostgresErrorCodes.UniqueViolation, "workspace agent name \"main\" already exists in this workspace build");
    }

    /// <summary>Inserts build <paramref name="number"/> of the workspace and a resource of its job; returns the resource.</summary>
    private async Task<Guid> ResourceOfBuildAsync(int number) =>
        await Builder.InsertIdAsync("workspace_resources", ("job_id", (await Builder.BuildAsync(_workspace, number)).Job));

    private Task<Guid> AgentAsync(Guid resource, string name, bool deleted = false) =>
        Builder.InsertIdAsync("workspace_agents", ("resource_id", resource), ("name", name), ("deleted", deleted));

    /// <summary>The workspace's next_start_at ("cleared" when NULL) and the year of its updated_at, in UTC.</summary>
    private async Task<string?> StateAsync() => await Builder.ScalarAsync<string>("""
        SELECT COALESCE(to_char(next_start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), 'cleared')
               || ' ' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY')
        FROM workspaces WHERE id = @ws
        """, ("ws", _workspace));
}

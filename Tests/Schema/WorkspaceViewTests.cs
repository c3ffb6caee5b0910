using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows of the workspace views of <see cref="M2026_02_23_0003_CreateWorkspaceViews"/>:
/// <c>workspace_build_with_user</c>, <c>workspace_latest_builds</c>, <c>workspace_prebuild_builds</c>,
/// <c>workspace_prebuilds</c> and <c>workspaces_expanded</c> (behavior.md 3.7 to 3.11).
/// </summary>
public sealed class WorkspaceViewTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private static readonly Guid PrebuildsUser = Guid.Parse(M2026_02_23_0003_CreateWorkspaceViews.PrebuildsUserId);

    private NpgsqlConnection connection = null!;
    private Rows rows = null!;
    private Guid org;
    private Guid owner;
    private Guid template;
    private Guid version;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        connection = await database.OpenAsync();
        rows = new Rows(connection);
        org = await rows.OrganizationAsync();
        owner = await rows.UserAsync();
        (template, version) = await rows.TemplateAsync(org, owner);
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();

    [Fact]
    public async Task BuildsComeWithTheirInitiatorsNamesOrEmptyStrings()
    {
        var workspace = await rows.WorkspaceAsync(owner, template);
        var (byOwner, _) = await rows.BuildAsync(workspace, version, 1);
        var (byNobody, _) = await rows.BuildAsync(workspace, version, 2, initiator: Guid.NewGuid());
        var names = await rows.ScalarAsync<string>("SELECT avatar_url || ' ' || username || ' ' || name FROM users WHERE id = @owner", ("owner", owner));

        Assert.Equal(
            new[] { $"{byOwner} {names}", $"{byNobody}   " }.Order(StringComparer.Ordinal),
            await rows.ColumnAsync<string>(
                "SELECT id || ' ' || initiator_by_avatar_url || ' ' || initiator_by_username || ' ' || initiator_by_name FROM workspace_build_with_user ORDER BY 1"));
    }

    [Fact]
    public async Task BuildColumnsAreTheTablesOwnWithoutProvisionerState()
    {
        var workspace = await rows.WorkspaceAsync(owner, template);
        await rows.BuildAsync(workspace, version, 1);
        await rows.ExecuteAsync("UPDATE workspace_builds SET provisioner_state = '\\x0102', has_ai_task = true, deadline = now()");

        Assert.True(await rows.ScalarAsync<bool>("""
            SELECT (SELECT array_agg(b.* ORDER BY b.id) FROM (
                        SELECT id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id, deadline,
                               reason, daily_cost, max_deadline, template_version_preset_id, has_ai_task, has_external_agent
                        FROM workspace_builds) AS b)::text
                 = (SELECT array_agg(v.* ORDER BY v.id) FROM (
                        SELECT id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id, deadline,
                               reason, daily_cost, max_deadline, template_version_preset_id, has_ai_task, has_external_agent
                        FROM workspace_build_with_user) AS v)::text
            """));
    }

    [Fact]
    public async Task LatestBuildIsTheHighestNumberNotTheNewest()
    {
        var workspace = await rows.WorkspaceAsync(owner, template);
        var (second, secondJob) = await rows.BuildAsync(workspace, version, 2, transition: "stop");
        var (first, _) = await rows.BuildAsync(workspace, version, 1);
        await rows.ExecuteAsync("UPDATE workspace_builds SET created_at = now() + interval '1 hour' WHERE id = @first", ("first", first));
        await rows.ExecuteAsync("UPDATE provisioner_jobs SET started_at = now() WHERE id = @job", ("job", secondJob));

        Assert.Equal(
            [$"{second} {workspace} {version} {secondJob} stop running"],
            await rows.ColumnAsync<string>(
                "SELECT concat_ws(' ', id, workspace_id, template_version_id, job_id, template_version_preset_id, transition, job_status) FROM workspace_latest_builds"));
        Assert.True(await rows.ScalarAsync<bool>(
            "SELECT l.created_at = b.created_at FROM workspace_latest_builds AS l JOIN workspace_builds AS b ON b.id = l.id"));
    }

    [Fact]
    public async Task WorkspaceWithoutBuildsGivesAllNullRowAndDeletedWorkspacesAreLeftOut()
    {
        await rows.WorkspaceAsync(owner, template);
        var deleted = await rows.WorkspaceAsync(owner, template, deleted: true);
        await rows.BuildAsync(deleted, version, 1);

        Assert.Equal(1L, await rows.ScalarAsync<long>("""
            SELECT count(*) FROM workspace_latest_builds
            WHERE num_nulls(id, workspace_id, template_version_id, job_id, template_version_preset_id, transition, created_at, job_status) = 8
            """));
        Assert.Equal(1L, await rows.ScalarAsync<long>("SELECT count(*) FROM workspace_latest_builds"));
    }

    [Fact]
    public async Task LatestBuildsComeInWorkspaceIdOrder()
    {
        for (var i = 0; i < 5; i++) await rows.BuildAsync(await rows.WorkspaceAsync(owner, template), version, 1);

        Assert.Equal(
            await rows.ColumnAsync<Guid>("SELECT id FROM workspaces ORDER BY id"),
            await rows.ColumnAsync<Guid>("SELECT workspace_id FROM workspace_latest_builds"));
    }

    [Fact]
    public async Task PrebuildBuildsAreTheBuildsThePrebuildsUserStarted()
    {
        var workspace = await rows.WorkspaceAsync(owner, template);
        var (prebuild, _) = await rows.BuildAsync(workspace, version, 1, initiator: PrebuildsUser);
        await rows.BuildAsync(workspace, version, 2);

        Assert.Equal(
            [$"{prebuild} {workspace} {version} start 1"],
            await rows.ColumnAsync<string>(
                "SELECT concat_ws(' ', id, workspace_id, template_version_id, transition, template_version_preset_id, build_number) FROM workspace_prebuild_builds"));
    }

    [Fact]
    public async Task PrebuildShowsItsLatestPresetFromAnyInitiator()
    {
        await PrebuildsUserAsync();
        var (presetA, presetB) = (await PresetAsync(), await PresetAsync());
        var prebuild = await rows.WorkspaceAsync(PrebuildsUser, template);
        await rows.BuildAsync(prebuild, version, 1, initiator: PrebuildsUser, preset: presetA);
        await rows.BuildAsync(prebuild, version, 2, initiator: owner, preset: presetB);
        await rows.BuildAsync(prebuild, version, 3, initiator: PrebuildsUser);

        Assert.Equal([$"{prebuild} {presetB}"], await rows.ColumnAsync<string>("SELECT id || ' ' || current_preset_id FROM workspace_prebuilds"));
        Assert.True(await rows.ScalarAsync<bool>("""
            SELECT (p.name, p.template_id, p.created_at) = (w.name, w.template_id, w.created_at)
            FROM workspace_prebuilds AS p JOIN workspaces AS w ON w.id = p.id
            """));
    }

    [Fact]
    public async Task WorkspacesWithoutPresetBuildsOrOfOtherOwnersAreNotPrebuilds()
    {
        await PrebuildsUserAsync();
        var preset = await PresetAsync();
        await rows.BuildAsync(await rows.WorkspaceAsync(PrebuildsUser, template), version, 1, initiator: PrebuildsUser);
        await rows.BuildAsync(await rows.WorkspaceAsync(owner, template), version, 1, initiator: PrebuildsUser, preset: preset);

        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM workspace_prebuilds"));
    }

    /// <summary>Agents of the latest build as "lifecycle:deleted", and whether the prebuild is ready.</summary>
    public static TheoryData<string[], bool> Readiness { get; } = new()
    {
        { ["ready:false", "ready:false"], true },
        { ["ready:false", "starting:false"], false },
        { ["ready:false", "starting:true"], true },
        { ["start_error:false"], false },
        { ["starting:true"], false },
        { [], false },
    };

    [Theory]
    [MemberData(nameof(Readiness))]
    public async Task PrebuildIsReadyWhenItsLatestBuildHasLiveAgentsAllReady(string[] agents, bool ready)
    {
        await PrebuildsUserAsync();
        var preset = await PresetAsync();
        var prebuild = await rows.WorkspaceAsync(PrebuildsUser, template);
        await rows.BuildAsync(prebuild, version, 1, initiator: PrebuildsUser, preset: preset);
        var latest = (await rows.BuildAsync(prebuild, version, 2, initiator: PrebuildsUser)).Job;
        var resource = await rows.ResourceAsync(latest);
        foreach (var agent in agents)
        {
            var (lifecycle, deleted) = (agent.Split(':')[0], bool.Parse(agent.Split(':')[1]));
            await rows.AgentAsync(resource, rows.Name("agent"), deleted, lifecycle);
        }

        Assert.Equal(ready, await rows.ScalarAsync<bool>("SELECT ready FROM workspace_prebuilds"));
    }

    [Fact]
    public async Task ReadinessLooksAtTheLatestBuildOnly()
    {
        await PrebuildsUserAsync();
        var prebuild = await rows.WorkspaceAsync(PrebuildsUser, template);
        var first = (await rows.BuildAsync(prebuild, version, 1, initiator: PrebuildsUser, preset: await PresetAsync())).Job;
        await rows.AgentAsync(await rows.ResourceAsync(first), "main", lifecycle: "ready");
        await rows.BuildAsync(prebuild, version, 2, initiator: PrebuildsUser);

        Assert.False(await rows.ScalarAsync<bool>("SELECT ready FROM workspace_prebuilds"));
    }

    [Fact]
    public async Task DeletedPrebuildIsListedButNeverReady()
    {
        await PrebuildsUserAsync();
        var prebuild = await rows.WorkspaceAsync(PrebuildsUser, template, deleted: true);
        var job = (await rows.BuildAsync(prebuild, version, 1, initiator: PrebuildsUser, preset: await PresetAsync())).Job;
        await rows.AgentAsync(await rows.ResourceAsync(job), "main", lifecycle: "ready");

        Assert.Equal([$"{prebuild} false"], await rows.ColumnAsync<string>("SELECT id || ' ' || ready::text FROM workspace_prebuilds"));
    }

    [Fact]
    public async Task WorkspaceComesOncePerTaskAndOnceWithoutTaskDeletedOnesIncluded()
    {
        var withTasks = await rows.WorkspaceAsync(owner, template);
        var without = await rows.WorkspaceAsync(owner, template);
        var deleted = await rows.WorkspaceAsync(owner, template, deleted: true);
        var task = await TaskAsync(withTasks, deletedAt: null);
        var deletedTask = await TaskAsync(withTasks, deletedAt: "2024-01-01 00:00:00+00");

        Assert.Equal(
            new[] { $"{withTasks} {task}", $"{withTasks} {deletedTask}", $"{without} ", $"{deleted} " }.Order(StringComparer.Ordinal),
            await rows.ColumnAsync<string>("SELECT id || ' ' || COALESCE(task_id::text, '') FROM workspaces_expanded ORDER BY 1"));
    }

    [Fact]
    public async Task ExpandedWorkspaceCarriesOwnerOrganizationAndTemplateFields()
    {
        await rows.WorkspaceAsync(owner, template);

        Assert.True(await rows.ScalarAsync<bool>("""
            SELECT (e.owner_avatar_url, e.owner_username, e.owner_name,
                    e.organization_name, e.organization_display_name, e.organization_icon, e.organization_description,
                    e.template_name, e.template_display_name, e.template_icon, e.template_description)
                 = (u.avatar_url, u.username, u.name, o.name, o.display_name, o.icon, o.description,
                    t.name, t.display_name, t.icon, t.description)
               AND (SELECT array_agg(w.*)::text FROM workspaces AS w)
                 = (SELECT array_agg(x.*)::text FROM (
                        SELECT id, created_at, updated_at, owner_id, organization_id, template_id, deleted, name, autostart_schedule, ttl,
                               last_used_at, dormant_at, deleting_at, automatic_updates, favorite, next_start_at, group_acl, user_acl
                        FROM workspaces_expanded) AS x)
            FROM workspaces_expanded AS e
            JOIN users AS u ON u.id = e.owner_id
            JOIN organizations AS o ON o.id = e.organization_id
            JOIN templates AS t ON t.id = e.template_id
            """));
    }

    [Fact]
    public async Task AclDisplayInfoNamesEachKeyWithEmptyStringsForUnknownIds()
    {
        var group = await rows.GroupAsync(org);
        var gone = await rows.UserAsync(deleted: true);
        var (unknownGroup, unknownUser) = (Guid.NewGuid(), Guid.NewGuid());
        var workspace = await rows.WorkspaceAsync(owner, template);
        await rows.ExecuteAsync("""
            UPDATE workspaces
            SET group_acl = jsonb_build_object(@group::text, '["read"]'::jsonb, @unknownGroup::text, '"ignored"'::jsonb),
                user_acl = jsonb_build_object(@gone::text, '{}'::jsonb, @unknownUser::text, 'null'::jsonb)
            WHERE id = @ws
            """, ("group", group), ("unknownGroup", unknownGroup), ("gone", gone), ("unknownUser", unknownUser), ("ws", workspace));

        Assert.True(await rows.ScalarAsync<bool>("""
            SELECT e.group_acl_display_info = jsonb_build_object(
                       @group::text, jsonb_build_object('name', g.name, 'avatar_url', g.avatar_url),
                       @unknownGroup::text, '{"name": "", "avatar_url": ""}'::jsonb)
               AND e.user_acl_display_info = jsonb_build_object(
                       @gone::text, jsonb_build_object('name', u.name, 'avatar_url', u.avatar_url),
                       @unknownUser::text, '{"name": "", "avatar_url": ""}'::jsonb)
               AND g.avatar_url <> '' AND u.name <> ''
            FROM workspaces_expanded AS e, groups AS g, users AS u
            WHERE g.id = @group AND u.id = @gone
            """, ("group", group), ("unknownGroup", unknownGroup), ("gone", gone), ("unknownUser", unknownUser)));
    }

    [Fact]
    public async Task EmptyAclsGiveEmptyObjects()
    {
        await rows.WorkspaceAsync(owner, template);

        Assert.Equal(["{} {}"], await rows.ColumnAsync<string>(
            "SELECT group_acl_display_info::text || ' ' || user_acl_display_info::text FROM workspaces_expanded"));
    }

    [Fact]
    public async Task NonUuidAclKeyFailsAnyQueryComputingDisplayInfo()
    {
        var workspace = await rows.WorkspaceAsync(owner, template);
        await rows.ExecuteAsync("UPDATE workspaces SET group_acl = '{\"admins\": []}' WHERE id = @ws", ("ws", workspace));

        var error = await Assert.ThrowsAsync<PostgresException>(() => rows.ColumnAsync<string>(
            "SELECT group_acl_display_info::text FROM workspaces_expanded"));

        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, error.SqlState);
    }

    private Task PrebuildsUserAsync() => rows.ExecuteAsync("""
        INSERT INTO users (id, email, username, hashed_password, created_at, updated_at, is_system)
        VALUES (@id, 'prebuilds@system', 'prebuilds', '\x01', now(), now(), true)
        """, ("id", PrebuildsUser));

    private async Task<Guid> PresetAsync()
    {
        var id = Guid.NewGuid();
        await rows.ExecuteAsync("INSERT INTO template_version_presets (id, template_version_id, name) VALUES (@id, @version, @name)",
            ("id", id), ("version", version), ("name", rows.Name("preset")));
        return id;
    }

    private async Task<Guid> TaskAsync(Guid workspace, string? deletedAt)
    {
        var id = Guid.NewGuid();
        await rows.ExecuteAsync("""
            INSERT INTO tasks (id, organization_id, owner_id, name, workspace_id, template_version_id, prompt, created_at, deleted_at)
            VALUES (@id, @org, @owner, @name, @ws, @version, 'do it', now(), @deleted::timestamptz)
            """, ("id", id), ("org", org), ("owner", owner), ("name", rows.Name("task")), ("ws", workspace), ("version", version), ("deleted", deletedAt));
        return id;
    }
}

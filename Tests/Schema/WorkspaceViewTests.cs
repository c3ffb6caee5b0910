using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows of the workspace views of <see cref="M2026_02_23_0003_CreateWorkspaceViews"/>:
/// <c>workspace_build_with_user</c>, <c>workspace_latest_builds</c>, <c>workspace_prebuild_builds</c>,
/// <c>workspace_prebuilds</c> and <c>workspaces_expanded</c> (behavior.md 3.7 to 3.11).
/// </summary>
public sealed class WorkspaceViewTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private static readonly Guid PrebuildsUser = Guid.Parse(M2026_02_23_0003_CreateWorkspaceViews.PrebuildsUserId);

    private Guid _org;
    private Guid _owner;
    private Guid _template;
    private Guid _version;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        // Distinct names everywhere, so that a view taking one column for another shows.
        _org = await Builder.InsertIdAsync("organizations", ("name", "acme"), ("display_name", "Acme"), ("icon", "acme.svg"), ("description", "about acme"));
        _owner = await Builder.InsertIdAsync("users", ("username", "alice"), ("name", "Alice"), ("avatar_url", "https://a/alice"));
        (_, _, _template, _version) = await Builder.TemplateAsync(
            ("organization_id", _org), ("created_by", _owner), ("name", "dev"), ("display_name", "Dev"), ("icon", "dev.png"), ("description", "about dev"));
    }

    [Fact]
    public async Task BuildsComeWithTheirInitiatorsNamesOrEmptyStrings()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        var (byOwner, _) = await Builder.BuildAsync(workspace, 1);
        var (byNobody, _) = await Builder.BuildAsync(workspace, 2, ("initiator_id", Guid.NewGuid()));
        var names = await Builder.ScalarAsync<string>("SELECT avatar_url || ' ' || username || ' ' || name FROM users WHERE id = @owner", ("owner", _owner));

        Assert.Equal(
            new[] { $"{byOwner} {names}", $"{byNobody}   " }.Order(StringComparer.Ordinal),
            await Builder.ColumnAsync<string>(
                "SELECT id || ' ' || initiator_by_avatar_url || ' ' || initiator_by_username || ' ' || initiator_by_name FROM workspace_build_with_user ORDER BY 1"));
    }

    [Fact]
    public async Task BuildColumnsAreTheTablesOwnWithoutProvisionerState()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        await Builder.BuildAsync(workspace, 1);
        await Builder.ExecuteAsync("UPDATE workspace_builds SET provisioner_state = '\\x0102', has_ai_task = true, deadline = now()");

        Assert.True(await Builder.ScalarAsync<bool>("""
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
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        var (second, secondJob) = await Builder.BuildAsync(workspace, 2, ("transition", "stop"));
        var (first, _) = await Builder.BuildAsync(workspace, 1);
        await Builder.ExecuteAsync("UPDATE workspace_builds SET created_at = now() + interval '1 hour' WHERE id = @first", ("first", first));
        await Builder.ExecuteAsync("UPDATE provisioner_jobs SET started_at = now() WHERE id = @job", ("job", secondJob));

        Assert.Equal(
            [$"{second} {workspace} {_version} {secondJob} stop running"],
            await Builder.ColumnAsync<string>(
                "SELECT concat_ws(' ', id, workspace_id, template_version_id, job_id, template_version_preset_id, transition, job_status) FROM workspace_latest_builds"));
        Assert.True(await Builder.ScalarAsync<bool>(
            "SELECT l.created_at = b.created_at FROM workspace_latest_builds AS l JOIN workspace_builds AS b ON b.id = l.id"));
    }

    [Fact]
    public async Task WorkspaceWithoutBuildsGivesAllNullRowAndDeletedWorkspacesAreLeftOut()
    {
        await Builder.WorkspaceAsync(_template, _owner);
        var deleted = await Builder.WorkspaceAsync(_template, _owner, ("deleted", true));
        await Builder.BuildAsync(deleted, 1);

        Assert.Equal(1L, await Builder.ScalarAsync<long>("""
            SELECT count(*) FROM workspace_latest_builds
            WHERE num_nulls(id, workspace_id, template_version_id, job_id, template_version_preset_id, transition, created_at, job_status) = 8
            """));
        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM workspace_latest_builds"));
    }

    [Fact]
    public async Task LatestBuildsComeInWorkspaceIdOrder()
    {
        for (var i = 0; i < 5; i++) await Builder.BuildAsync(await Builder.WorkspaceAsync(_template, _owner), 1);

        Assert.Equal(
            await Builder.ColumnAsync<Guid>("SELECT id FROM workspaces ORDER BY id"),
            await Builder.ColumnAsync<Guid>("SELECT workspace_id FROM workspace_latest_builds"));
    }

    [Fact]
    public async Task PrebuildBuildsAreTheBuildsThePrebuildsUserStarted()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        var (prebuild, _) = await Builder.BuildAsync(workspace, 1, ("initiator_id", PrebuildsUser));
        await Builder.BuildAsync(workspace, 2);

        Assert.Equal(
            [$"{prebuild} {workspace} {_version} start 1"],
            await Builder.ColumnAsync<string>(
                "SELECT concat_ws(' ', id, workspace_id, template_version_id, transition, template_version_preset_id, build_number) FROM workspace_prebuild_builds"));
    }

    [Fact]
    public async Task PrebuildShowsItsLatestPresetFromAnyInitiator()
    {
        await PrebuildsUserAsync();
        var (presetA, presetB) = (await PresetAsync(), await PresetAsync());
        var prebuild = await Builder.WorkspaceAsync(_template, PrebuildsUser);
        await Builder.BuildAsync(prebuild, 1, ("initiator_id", PrebuildsUser), ("template_version_preset_id", presetA));
        await Builder.BuildAsync(prebuild, 2, ("initiator_id", _owner), ("template_version_preset_id", presetB));
        await Builder.BuildAsync(prebuild, 3, ("initiator_id", PrebuildsUser));

        Assert.Equal([$"{prebuild} {presetB}"], await Builder.ColumnAsync<string>("SELECT id || ' ' || current_preset_id FROM workspace_prebuilds"));
        Assert.True(await Builder.ScalarAsync<bool>("""
            SELECT (p.name, p.template_id, p.created_at) = (w.name, w.template_id, w.created_at)
            FROM workspace_prebuilds AS p JOIN workspaces AS w ON w.id = p.id
            """));
    }

    [Fact]
    public async Task WorkspacesWithoutPresetBuildsOrOfOtherOwnersAreNotPrebuilds()
    {
        await PrebuildsUserAsync();
        var preset = await PresetAsync();
        await Builder.BuildAsync(await Builder.WorkspaceAsync(_template, PrebuildsUser), 1, ("initiator_id", PrebuildsUser));
        await Builder.BuildAsync(await Builder.WorkspaceAsync(_template, _owner), 1, ("initiator_id", PrebuildsUser), ("template_version_preset_id", preset));

        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM workspace_prebuilds"));
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
        var prebuild = await Builder.WorkspaceAsync(_template, PrebuildsUser);
        await Builder.BuildAsync(prebuild, 1, ("initiator_id", PrebuildsUser), ("template_version_preset_id", preset));
        var latest = (await Builder.BuildAsync(prebuild, 2, ("initiator_id", PrebuildsUser))).Job;
        var resource = await Builder.InsertIdAsync("workspace_resources", ("job_id", latest));
        foreach (var agent in agents)
        {
            var (lifecycle, deleted) = (agent.Split(':')[0], bool.Parse(agent.Split(':')[1]));
            await Builder.InsertAsync("workspace_agents", ("resource_id", resource), ("deleted", deleted), ("lifecycle_state", lifecycle));
        }

        Assert.Equal(ready, await Builder.ScalarAsync<bool>("SELECT ready FROM workspace_prebuilds"));
    }

    [Fact]
    public async Task ReadinessLooksAtTheLatestBuildOnly()
    {
        await PrebuildsUserAsync();
        var prebuild = await Builder.WorkspaceAsync(_template, PrebuildsUser);
        var first = (await Builder.BuildAsync(prebuild, 1, ("initiator_id", PrebuildsUser), ("template_version_preset_id", await PresetAsync()))).Job;
        await Builder.InsertAsync("workspace_agents", ("resource_id", await Builder.InsertIdAsync("workspace_resources", ("job_id", first))), ("lifecycle_state", "ready"));
        await Builder.BuildAsync(prebuild, 2, ("initiator_id", PrebuildsUser));

        Assert.False(await Builder.ScalarAsync<bool>("SELECT ready FROM workspace_prebuilds"));
    }

    [Fact]
    public async Task DeletedPrebuildIsListedButNeverReady()
    {
        await PrebuildsUserAsync();
        var prebuild = await Builder.WorkspaceAsync(_template, PrebuildsUser, ("deleted", true));
        var job = (await Builder.BuildAsync(prebuild, 1, ("initiator_id", PrebuildsUser), ("template_version_preset_id", await PresetAsync()))).Job;
        await Builder.InsertAsync("workspace_agents", ("resource_id", await Builder.InsertIdAsync("workspace_resources", ("job_id", job))), ("lifecycle_state", "ready"));

        Assert.Equal([$"{prebuild} false"], await Builder.ColumnAsync<string>("SELECT id || ' ' || ready::text FROM workspace_prebuilds"));
    }

    [Fact]
    public async Task WorkspaceComesOncePerTaskAndOnceWithoutTaskDeletedOnesIncluded()
    {
        var withTasks = await Builder.WorkspaceAsync(_template, _owner);
        var without = await Builder.WorkspaceAsync(_template, _owner);
        var deleted = await Builder.WorkspaceAsync(_template, _owner, ("deleted", true));
        var task = await TaskAsync(withTasks, deletedAt: null);
        var deletedTask = await TaskAsync(withTasks, deletedAt: "2024-01-01 00:00:00+00");

        Assert.Equal(
            new[] { $"{withTasks} {task}", $"{withTasks} {deletedTask}", $"{without} ", $"{deleted} " }.Order(StringComparer.Ordinal),
            await Builder.ColumnAsync<string>("SELECT id || ' ' || COALESCE(task_id::text, '') FROM workspaces_expanded ORDER BY 1"));
    }

    [Fact]
    public async Task ExpandedWorkspaceCarriesOwnerOrganizationAndTemplateFields()
    {
        await Builder.WorkspaceAsync(_template, _owner);

        Assert.True(await Builder.ScalarAsync<bool>("""
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
        var group = await Builder.InsertIdAsync("groups", ("organization_id", _org), ("avatar_url", "https://g/devs"));
        var gone = await Builder.InsertIdAsync("users", ("deleted", true), ("name", "Gone"), ("avatar_url", "https://a/gone"));
        var (unknownGroup, unknownUser) = (Guid.NewGuid(), Guid.NewGuid());
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        await Builder.ExecuteAsync("""
            UPDATE workspaces
            SET group_acl = jsonb_build_object(@group::text, '["read"]'::jsonb, @unknownGroup::text, '"ignored"'::jsonb),
                user_acl = jsonb_build_object(@gone::text, '{}'::jsonb, @unknownUser::text, 'null'::jsonb)
            WHERE id = @ws
            """, ("group", group), ("unknownGroup", unknownGroup), ("gone", gone), ("unknownUser", unknownUser), ("ws", workspace));

        Assert.True(await Builder.ScalarAsync<bool>("""
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
        await Builder.WorkspaceAsync(_template, _owner);

        Assert.Equal(["{} {}"], await Builder.ColumnAsync<string>(
            "SELECT group_acl_display_info::text || ' ' || user_acl_display_info::text FROM workspaces_expanded"));
    }

    [Fact]
    public async Task NonUuidAclKeyFailsAnyQueryComputingDisplayInfo()
    {
        var workspace = await Builder.WorkspaceAsync(_template, _owner);
        await Builder.ExecuteAsync("UPDATE workspaces SET group_acl = '{\"admins\": []}' WHERE id = @ws", ("ws", workspace));

        var error = await Assert.ThrowsAsync<PostgresException>(() => Builder.ColumnAsync<string>(
            "SELECT group_acl_display_info::text FROM workspaces_expanded"));

        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, error.SqlState);
    }

    private Task<Row> PrebuildsUserAsync() => Builder.InsertAsync("users", ("id", PrebuildsUser), ("is_system", true));

    private Task<Guid> PresetAsync() => Builder.InsertIdAsync("template_version_presets", ("template_version_id", _version));

    private Task<Guid> TaskAsync(Guid workspace, string? deletedAt) => Builder.InsertIdAsync(
        "tasks", ("organization_id", _org), ("owner_id", _owner), ("workspace_id", workspace), ("template_version_id", _version), ("deleted_at", deletedAt));
}

using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The functions have no <c>SET search_path</c> (as in coderd), so they must name every table, type
/// and function schema-qualified: a trigger fired by a session whose path is empty, or starts with a
/// schema holding look-alike tables, must do exactly what it does with the default path. Each test
/// prepares rows with the default path, then acts with an empty one (the builder qualifies every
/// table and type it names).
/// </summary>
public sealed class SearchPathTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    [Fact]
    public async Task OrganizationTriggersWorkWithEmptySearchPath()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var alice = await Builder.InsertIdAsync("users");
        var group = await Builder.InsertIdAsync("groups", ("organization_id", org));
        await Builder.InsertAsync("organization_members", ("organization_id", org), ("user_id", alice), ("roles", "{auditor}"));
        await Builder.InsertAsync("group_members", ("group_id", group), ("user_id", alice));
        await Builder.InsertAsync("custom_roles", ("name", "auditor"), ("organization_id", org));
        await EmptySearchPathAsync();

        await Builder.InsertAsync("organizations");
        await Builder.ExecuteAsync("DELETE FROM public.custom_roles WHERE name = 'auditor'");
        await Builder.ExecuteAsync("DELETE FROM public.organization_members WHERE user_id = @alice", ("alice", alice));
        await Builder.ExecuteAsync("UPDATE public.organizations SET deleted = true WHERE id = @org", ("org", org));

        Assert.Equal(4L, await Builder.ScalarAsync<long>("SELECT count(*) FROM public.custom_roles WHERE is_system"));
        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM public.group_members"));
    }

    [Fact]
    public async Task OrganizationSoftDeleteGuardWorksWithEmptySearchPath()
    {
        var org = (await Builder.TemplateAsync()).Organization;
        await EmptySearchPathAsync();

        await Raised.AssertAsync(() => Builder.ExecuteAsync("UPDATE public.organizations SET deleted = true WHERE id = @org", ("org", org)),
            PostgresErrorCodes.RaiseException, "cannot delete organization: organization has 1 templates that must be deleted first");
    }

    [Fact]
    public async Task UserTriggersWorkWithEmptySearchPath()
    {
        var alice = await Builder.InsertIdAsync("users");
        await EmptySearchPathAsync();

        await Builder.InsertAsync("api_keys", ("user_id", alice));
        await Builder.InsertAsync("user_links", ("user_id", alice), ("login_type", "github"));
        await Builder.ExecuteAsync("UPDATE public.users SET deleted = true, status = 'suspended' WHERE id = @alice", ("alice", alice));

        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT (SELECT count(*) FROM public.api_keys) + (SELECT count(*) FROM public.user_links)"));
        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(*) FROM public.user_status_changes"));
        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM public.user_deleted"));
        await Raised.AssertAsync(() => Builder.InsertAsync("api_keys", ("user_id", alice)),
            PostgresErrorCodes.RaiseException, "Cannot create API key for deleted user");
    }

    [Fact]
    public async Task OAuth2TokenTriggerWorksWithEmptySearchPath()
    {
        var alice = await Builder.InsertIdAsync("users");
        var key = await Builder.InsertAsync("api_keys", ("user_id", alice));
        await Builder.InsertAsync("oauth2_provider_app_tokens", ("api_key_id", key["id"]), ("user_id", alice));
        await EmptySearchPathAsync();

        await Builder.ExecuteAsync("DELETE FROM public.oauth2_provider_app_tokens");

        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM public.api_keys"));
    }

    [Fact]
    public async Task NotificationTriggersWorkWithEmptySearchPath()
    {
        var alice = await Builder.InsertIdAsync("users");
        var template = await Builder.InsertIdAsync("notification_templates");
        await EmptySearchPathAsync();

        await Builder.InsertAsync(
            "notification_messages", ("notification_template_id", template), ("user_id", alice), ("method", "smtp"), ("payload", "{}"),
            ("created_at", "2024-03-05 12:00:00+00"));

        Assert.True(await Builder.ScalarAsync<bool>("SELECT dedupe_hash = md5(@parts) FROM public.notification_messages",
            ("parts", $"{template}:{alice}:smtp:{{}}:2024-03-05 00:00:00")));
    }

    [Fact]
    public async Task UsageAggregationWorksWithEmptySearchPath()
    {
        await EmptySearchPathAsync();

        foreach (var count in new[] { 2, 3 })
        {
            await Builder.InsertAsync("usage_events", ("event_type", "dc_managed_agents_v1"), ("event_data", $"{{\"count\": {count}}}"));
        }

        Assert.Equal("""{"count": 5}""", await Builder.ScalarAsync<string>("SELECT usage_data::text FROM public.usage_events_daily"));
    }

    [Fact]
    public async Task WorkspaceTriggersWorkWithEmptySearchPath()
    {
        var template = await Builder.TemplateAsync();
        var workspace = await Builder.WorkspaceAsync(template.Template, template.Creator);
        var resource = await Builder.InsertIdAsync("workspace_resources", ("job_id", (await Builder.BuildAsync(workspace, 1)).Job));
        await Builder.InsertAsync("workspace_agents", ("resource_id", resource), ("name", "main"));
        await Builder.ExecuteAsync("UPDATE workspaces SET autostart_schedule = 'a', next_start_at = now()");
        await EmptySearchPathAsync();

        await Builder.ExecuteAsync("UPDATE public.workspaces SET autostart_schedule = 'b'");

        Assert.True(await Builder.ScalarAsync<bool>("SELECT next_start_at IS NULL FROM public.workspaces"));
        await Raised.AssertAsync(
            () => Builder.InsertAsync("workspace_agents", ("resource_id", resource), ("name", "main")),
            PostgresErrorCodes.UniqueViolation, "workspace agent name \"main\" already exists in this workspace build");
    }

    [Fact]
    public async Task TailnetTriggersWorkWithEmptySearchPath()
    {
        await using var listener = await Listener.StartAsync(Database, "tailnet_coordinator_heartbeat", "tailnet_peer_update", "tailnet_tunnel_update");
        var (coordinator, peer) = (Guid.NewGuid(), Guid.NewGuid());
        await EmptySearchPathAsync();

        await Builder.InsertAsync("tailnet_coordinators", ("id", coordinator));
        await Builder.InsertAsync("tailnet_peers", ("id", peer), ("coordinator_id", coordinator));
        await Builder.InsertAsync("tailnet_tunnels", ("coordinator_id", coordinator), ("src_id", peer), ("dst_id", peer));

        Assert.Equal(
            [("tailnet_coordinator_heartbeat", $"{coordinator}"), ("tailnet_peer_update", $"{peer}"), ("tailnet_tunnel_update", $"{peer},{peer}")],
            await listener.CollectAsync(Builder.Connection));
    }

    [Fact]
    public async Task TagsetFunctionWorksWithEmptySearchPath()
    {
        await EmptySearchPathAsync();

        Assert.True(await Builder.ScalarAsync<bool>(
            """SELECT public.provisioner_tagset_contains('{"scope": "organization", "owner": ""}', '{"owner": "", "scope": "organization"}')"""));
    }

    [Fact]
    public async Task LookAlikeTablesEarlierInThePathAreNotTouched()
    {
        // A schema first in the path with tables named like the ones the triggers write: the
        // triggers must still write to public's.
        await using var transaction = await Builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await Builder.ExecuteAsync("""
            CREATE SCHEMA decoy;
            CREATE TABLE decoy.custom_roles (LIKE public.custom_roles INCLUDING ALL);
            CREATE TABLE decoy.user_status_changes (LIKE public.user_status_changes INCLUDING ALL);
            SET LOCAL search_path = decoy, public;
            """);

        await Builder.InsertAsync("organizations");
        await Builder.InsertAsync("users");

        Assert.Equal("0 0 2 1", await Builder.ScalarAsync<string>("""
            SELECT concat_ws(' ', (SELECT count(*) FROM decoy.custom_roles), (SELECT count(*) FROM decoy.user_status_changes),
                                  (SELECT count(*) FROM public.custom_roles), (SELECT count(*) FROM public.user_status_changes))
            """));
    }

    private Task<int> EmptySearchPathAsync() => Builder.ExecuteAsync("SET search_path = ''");
}

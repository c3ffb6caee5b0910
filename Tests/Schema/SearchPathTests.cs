using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The functions have no <c>SET search_path</c> (as in coderd), so they must name every table, type
/// and function schema-qualified: a trigger fired by a session whose path is empty, or starts with a
/// schema holding look-alike tables, must do exactly what it does with the default path. Each test
/// prepares rows with the default path, then acts with an empty one.
/// </summary>
public sealed class SearchPathTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private const string ApiKeySql = """
        INSERT INTO public.api_keys (id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, scopes, allow_list)
        VALUES (@id, '\x01', @user, now(), now() + interval '1 day', now(), now(), 'password', '{coder:all}', '{*}')
        """;

    private NpgsqlConnection connection = null!;
    private Rows rows = null!;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        connection = await database.OpenAsync();
        rows = new Rows(connection);
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();

    [Fact]
    public async Task OrganizationTriggersWorkWithEmptySearchPath()
    {
        var org = await rows.OrganizationAsync();
        var alice = await rows.UserAsync();
        var group = await rows.GroupAsync(org);
        await rows.MemberAsync(org, alice, "auditor");
        await rows.GroupMemberAsync(group, alice);
        await rows.ExecuteAsync("INSERT INTO custom_roles (name, display_name, organization_id) VALUES ('auditor', '', @org)", ("org", org));
        await EmptySearchPathAsync();

        await rows.ExecuteAsync("""
            INSERT INTO public.organizations (id, name, description, created_at, updated_at, display_name)
            VALUES (gen_random_uuid(), 'other', '', now(), now(), 'Other')
            """);
        await rows.ExecuteAsync("DELETE FROM public.custom_roles WHERE name = 'auditor'");
        await rows.ExecuteAsync("DELETE FROM public.organization_members WHERE user_id = @alice", ("alice", alice));
        await rows.ExecuteAsync("UPDATE public.organizations SET deleted = true WHERE id = @org", ("org", org));

        Assert.Equal(4L, await rows.ScalarAsync<long>("SELECT count(*) FROM public.custom_roles WHERE is_system"));
        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM public.group_members"));
    }

    [Fact]
    public async Task OrganizationSoftDeleteGuardWorksWithEmptySearchPath()
    {
        var org = await rows.OrganizationAsync();
        await rows.TemplateAsync(org, await rows.UserAsync());
        await EmptySearchPathAsync();

        await Raised.AssertAsync(() => rows.ExecuteAsync("UPDATE public.organizations SET deleted = true WHERE id = @org", ("org", org)),
            PostgresErrorCodes.RaiseException, "cannot delete organization: organization has 1 templates that must be deleted first");
    }

    [Fact]
    public async Task UserTriggersWorkWithEmptySearchPath()
    {
        var alice = await rows.UserAsync();
        await EmptySearchPathAsync();

        await rows.ExecuteAsync(ApiKeySql, ("id", "key-1"), ("user", alice));
        await rows.ExecuteAsync(
            "INSERT INTO public.user_links (user_id, login_type) VALUES (@user, 'github')", ("user", alice));
        await rows.ExecuteAsync("UPDATE public.users SET deleted = true, status = 'suspended' WHERE id = @alice", ("alice", alice));

        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT (SELECT count(*) FROM public.api_keys) + (SELECT count(*) FROM public.user_links)"));
        Assert.Equal(2L, await rows.ScalarAsync<long>("SELECT count(*) FROM public.user_status_changes"));
        Assert.Equal(1L, await rows.ScalarAsync<long>("SELECT count(*) FROM public.user_deleted"));
        await Raised.AssertAsync(() => rows.ExecuteAsync(ApiKeySql, ("id", "key-2"), ("user", alice)),
            PostgresErrorCodes.RaiseException, "Cannot create API key for deleted user");
    }

    [Fact]
    public async Task OAuth2TokenTriggerWorksWithEmptySearchPath()
    {
        var alice = await rows.UserAsync();
        var key = await rows.ApiKeyAsync(alice);
        await rows.ExecuteAsync("""
            INSERT INTO oauth2_provider_apps (id, created_at, updated_at, name, icon, callback_url)
            VALUES ('00000000-0000-0000-0000-00000000000a', now(), now(), 'app', '', 'https://app.example.com/callback');
            INSERT INTO oauth2_provider_app_secrets (id, created_at, hashed_secret, display_secret, app_id, secret_prefix)
            VALUES ('00000000-0000-0000-0000-00000000000b', now(), '\x01', 'abc', '00000000-0000-0000-0000-00000000000a', '\x02');
            INSERT INTO oauth2_provider_app_tokens (id, created_at, expires_at, hash_prefix, refresh_hash, app_secret_id, api_key_id, user_id)
            VALUES (gen_random_uuid(), now(), now(), '\x03', '\x04', '00000000-0000-0000-0000-00000000000b', @key, @alice);
            """, ("key", key), ("alice", alice));
        await EmptySearchPathAsync();

        await rows.ExecuteAsync("DELETE FROM public.oauth2_provider_app_tokens");

        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM public.api_keys"));
    }

    [Fact]
    public async Task NotificationTriggersWorkWithEmptySearchPath()
    {
        var alice = await rows.UserAsync();
        var template = Guid.NewGuid();
        await rows.ExecuteAsync(
            "INSERT INTO notification_templates (id, name, title_template, body_template) VALUES (@id, 'hello', 't', 'b')", ("id", template));
        await EmptySearchPathAsync();

        await rows.ExecuteAsync("""
            INSERT INTO public.notification_messages (id, notification_template_id, user_id, method, created_by, payload, created_at)
            VALUES (gen_random_uuid(), @template, @alice, 'smtp', 'test', '{}', '2024-03-05 12:00:00+00')
            """, ("template", template), ("alice", alice));

        Assert.True(await rows.ScalarAsync<bool>("SELECT dedupe_hash = md5(@parts) FROM public.notification_messages",
            ("parts", $"{template}:{alice}:smtp:{{}}:2024-03-05 00:00:00")));
    }

    [Fact]
    public async Task UsageAggregationWorksWithEmptySearchPath()
    {
        await EmptySearchPathAsync();

        foreach (var count in new[] { 2, 3 })
        {
            await rows.ExecuteAsync("""
                INSERT INTO public.usage_events (id, event_type, event_data, created_at)
                VALUES (gen_random_uuid()::text, 'dc_managed_agents_v1', jsonb_build_object('count', @count), now())
                """, ("count", count));
        }

        Assert.Equal("""{"count": 5}""", await rows.ScalarAsync<string>("SELECT usage_data::text FROM public.usage_events_daily"));
    }

    [Fact]
    public async Task WorkspaceTriggersWorkWithEmptySearchPath()
    {
        var org = await rows.OrganizationAsync();
        var owner = await rows.UserAsync();
        var (template, version) = await rows.TemplateAsync(org, owner);
        var workspace = await rows.WorkspaceAsync(owner, template);
        var resource = await rows.ResourceAsync((await rows.BuildAsync(workspace, version, 1)).Job);
        await rows.AgentAsync(resource, "main");
        await rows.ExecuteAsync("UPDATE workspaces SET autostart_schedule = 'a', next_start_at = now()");
        await EmptySearchPathAsync();

        await rows.ExecuteAsync("UPDATE public.workspaces SET autostart_schedule = 'b'");

        Assert.True(await rows.ScalarAsync<bool>("SELECT next_start_at IS NULL FROM public.workspaces"));
        await Raised.AssertAsync(
            () => rows.ExecuteAsync("""
                INSERT INTO public.workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, architecture, operating_system)
                VALUES (gen_random_uuid(), now(), now(), 'main', @resource, gen_random_uuid(), 'amd64', 'linux')
                """, ("resource", resource)),
            PostgresErrorCodes.UniqueViolation, "workspace agent name \"main\" already exists in this workspace build");
    }

    [Fact]
    public async Task TailnetTriggersWorkWithEmptySearchPath()
    {
        await using var listener = await Listener.StartAsync(database, "tailnet_coordinator_heartbeat", "tailnet_peer_update", "tailnet_tunnel_update");
        var (coordinator, peer) = (Guid.NewGuid(), Guid.NewGuid());
        await EmptySearchPathAsync();

        await rows.ExecuteAsync("""
            INSERT INTO public.tailnet_coordinators (id, heartbeat_at) VALUES (@coordinator, now());
            INSERT INTO public.tailnet_peers (id, coordinator_id, updated_at, node) VALUES (@peer, @coordinator, now(), '\x01');
            INSERT INTO public.tailnet_tunnels (coordinator_id, src_id, dst_id, updated_at) VALUES (@coordinator, @peer, @peer, now());
            """, ("coordinator", coordinator), ("peer", peer));

        Assert.Equal(
            [("tailnet_coordinator_heartbeat", $"{coordinator}"), ("tailnet_peer_update", $"{peer}"), ("tailnet_tunnel_update", $"{peer},{peer}")],
            await listener.CollectAsync(connection));
    }

    [Fact]
    public async Task TagsetFunctionWorksWithEmptySearchPath()
    {
        await EmptySearchPathAsync();

        Assert.True(await rows.ScalarAsync<bool>(
            """SELECT public.provisioner_tagset_contains('{"scope": "organization", "owner": ""}', '{"owner": "", "scope": "organization"}')"""));
    }

    [Fact]
    public async Task LookAlikeTablesEarlierInThePathAreNotTouched()
    {
        // A schema first in the path with tables named like the ones the triggers write: the
        // triggers must still write to public's.
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await rows.ExecuteAsync("""
            CREATE SCHEMA decoy;
            CREATE TABLE decoy.custom_roles (LIKE public.custom_roles INCLUDING ALL);
            CREATE TABLE decoy.user_status_changes (LIKE public.user_status_changes INCLUDING ALL);
            SET LOCAL search_path = decoy, public;
            """);

        await rows.OrganizationAsync();
        await rows.UserAsync();

        Assert.Equal("0 0 2 1", await rows.ScalarAsync<string>("""
            SELECT concat_ws(' ', (SELECT count(*) FROM decoy.custom_roles), (SELECT count(*) FROM decoy.user_status_changes),
                                  (SELECT count(*) FROM public.custom_roles), (SELECT count(*) FROM public.user_status_changes))
            """));
    }

    private Task EmptySearchPathAsync() => rows.ExecuteAsync("SET search_path = ''");
}

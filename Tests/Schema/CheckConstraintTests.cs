using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Each CHECK constraint of the spec proven in both directions against the migrated database: a
/// row it rejects (SQLSTATE 23514 naming exactly that constraint and table) and a neighbouring row
/// it accepts. Rows reference the parents of <see cref="World"/>.
/// </summary>
public sealed class CheckConstraintTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private const string Org = "INSERT INTO organizations (id, name, description, created_at, updated_at, display_name) VALUES (gen_random_uuid(), 'other', '', now(), now(), 'Other')";
    private const string User = "INSERT INTO users (id, email, username, hashed_password, created_at, updated_at";
    private const string ModelConfig = "INSERT INTO chat_model_configs (provider, model, context_limit, compression_threshold) VALUES ('openai', 'gpt-5-mini', ";
    private const string CustomRole = "INSERT INTO custom_roles (name, display_name, organization_id) VALUES ('auditor', 'Auditor', ";
    private const string Group = "INSERT INTO groups (id, name, organization_id, chat_spend_limit_micros) VALUES (gen_random_uuid(), 'devs', @org, ";
    private const string McpConfig = "INSERT INTO mcp_server_configs (display_name, slug, url, ";
    private const string Job = "INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, storage_method, type, input, file_id, logs_length) VALUES (gen_random_uuid(), now(), now(), @org, @owner, 'echo', 'file', 'template_version_import', '{}', gen_random_uuid(), ";
    private const string Agent = "INSERT INTO workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, architecture, operating_system, ";
    private const string AgentValues = ") VALUES (gen_random_uuid(), now(), now(), 'main', @resource, gen_random_uuid(), 'amd64', 'linux', ";
    private const string Build = "INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id, deadline, max_deadline) VALUES (gen_random_uuid(), now(), now(), @workspace, @version, 1, 'start', @owner, @job, ";
    private const string Workspace = "INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name, group_acl, user_acl) VALUES (gen_random_uuid(), now(), now(), @owner, @org, @template, 'second', ";
    private const string Parameter = "INSERT INTO template_version_parameters (template_version_id, name, description, type, mutable, default_value, icon, validation_regex, validation_monotonic) VALUES (@version, 'cpu', '', 'number', false, '2', '', '', ";

    /// <summary>Rows each CHECK rejects: constraint, scenario, SQL (affecting one row if it were accepted).</summary>
    private static readonly CheckRow[] Rejected =
    [
        new("chat_model_configs_compression_threshold_check", "threshold above 100", ModelConfig + "128000, 101)"),
        new("chat_model_configs_compression_threshold_check", "negative threshold", ModelConfig + "128000, -1)"),
        new("chat_model_configs_context_limit_check", "zero context limit", ModelConfig + "0, 50)"),
        new("chat_model_configs_context_limit_check", "negative context limit", ModelConfig + "-1, 50)"),
        new("chat_providers_provider_check", "unknown provider", "INSERT INTO chat_providers (provider) VALUES ('mistral')"),
        new("chat_providers_provider_check", "known provider in other case", "INSERT INTO chat_providers (provider) VALUES ('Anthropic')"),
        new("chat_usage_limit_config_default_limit_micros_check", "negative default limit", "UPDATE chat_usage_limit_config SET default_limit_micros = -1"),
        new("chat_usage_limit_config_period_check", "unknown period", "UPDATE chat_usage_limit_config SET period = 'year'"),
        new("chat_usage_limit_config_singleton_check", "singleton set to false", "UPDATE chat_usage_limit_config SET singleton = false"),
        // The CHECK is evaluated before the UNIQUE index is touched, so a false row never reaches it.
        new("chat_usage_limit_config_singleton_check", "second row with singleton false", "INSERT INTO chat_usage_limit_config (singleton) VALUES (false)"),
        new("organization_id_not_zero", "zero organization id", CustomRole + "'00000000-0000-0000-0000-000000000000')"),
        new("groups_chat_spend_limit_micros_check", "zero spend limit", Group + "0)"),
        new("groups_chat_spend_limit_micros_check", "negative spend limit", Group + "-5)"),
        new("one_time_passcode_set", "passcode without expiry", User + ", hashed_one_time_passcode) VALUES (gen_random_uuid(), 'otp@example.com', 'otp', '\\x00', now(), now(), '\\x01')"),
        new("one_time_passcode_set", "expiry without passcode", User + ", one_time_passcode_expires_at) VALUES (gen_random_uuid(), 'otp@example.com', 'otp', '\\x00', now(), now(), now())"),
        new("users_chat_spend_limit_micros_check", "zero spend limit", User + ", chat_spend_limit_micros) VALUES (gen_random_uuid(), 'spend@example.com', 'spend', '\\x00', now(), now(), 0)"),
        new("users_email_not_empty", "person without e-mail", User + ") VALUES (gen_random_uuid(), '', 'nomail', '\\x00', now(), now())"),
        new("users_email_not_empty", "service account with e-mail", User + ", is_service_account, login_type) VALUES (gen_random_uuid(), 'bot@example.com', 'bot', '\\x00', now(), now(), true, 'none')"),
        new("users_service_account_login_type", "service account with password login", User + ", is_service_account, login_type) VALUES (gen_random_uuid(), '', 'bot', '\\x00', now(), now(), true, 'password')"),
        new("users_username_min_length", "empty username", User + ") VALUES (gen_random_uuid(), 'anon@example.com', '', '\\x00', now(), now())"),
        new("mcp_server_configs_auth_type_check", "unknown auth type", McpConfig + "auth_type) VALUES ('Docs', 'docs', 'https://mcp.example.com', 'basic')"),
        new("mcp_server_configs_availability_check", "unknown availability", McpConfig + "availability) VALUES ('Docs', 'docs', 'https://mcp.example.com', 'always_on')"),
        new("mcp_server_configs_transport_check", "unknown transport", McpConfig + "transport) VALUES ('Docs', 'docs', 'https://mcp.example.com', 'websocket')"),
        new("max_provisioner_logs_length", "one byte over 1 MiB", Job + "1048577)"),
        new("max_logs_length", "one byte over 1 MiB", Agent + "logs_length" + AgentValues + "1048577)"),
        new("subsystems_not_none", "only none", Agent + "subsystems" + AgentValues + "'{none}')"),
        new("subsystems_not_none", "none among others", Agent + "subsystems" + AgentValues + "'{envbox,none}')"),
        new("workspace_builds_deadline_below_max_deadline", "deadline after max deadline", Build + "'2026-03-20 12:00:00+00', '2026-03-20 08:00:00+00')"),
        new("workspace_builds_deadline_below_max_deadline", "zero deadline with a max deadline", Build + "'0001-01-01 00:00:00+00', '2026-03-20 08:00:00+00')"),
        new("group_acl_is_object", "array group ACL", Workspace + "'[]', '{}')"),
        new("user_acl_is_object", "JSON null user ACL", Workspace + "'{}', 'null')"),
        new("telemetry_lock_event_type_constraint", "unknown event type", "INSERT INTO telemetry_locks (event_type, period_ending_at) VALUES ('heartbeat', now())"),
        new("validation_monotonic_order", "unknown order", Parameter + "'sideways')"),
        new("usage_event_type_check", "unknown event type", "INSERT INTO usage_events (id, event_type, event_data, created_at) VALUES ('evt-1', 'dc_managed_agents_v2', '{}', now())"),
    ];

    /// <summary>Neighbouring rows each CHECK accepts.</summary>
    private static readonly CheckRow[] Accepted =
    [
        new("api_keys_allow_list_not_empty", "one entry", World.ApiKeySql("'{*}'")),
        new("chat_model_configs_compression_threshold_check", "threshold 100", ModelConfig + "128000, 100)"),
        new("chat_model_configs_compression_threshold_check", "threshold 0", ModelConfig + "128000, 0)"),
        new("chat_model_configs_context_limit_check", "context limit 1", ModelConfig + "1, 50)"),
        new("chat_providers_provider_check", "openai-compat", "INSERT INTO chat_providers (provider) VALUES ('openai-compat')"),
        new("chat_usage_limit_config_default_limit_micros_check", "zero default limit", "UPDATE chat_usage_limit_config SET default_limit_micros = 0"),
        new("chat_usage_limit_config_period_check", "daily period", "UPDATE chat_usage_limit_config SET period = 'day'"),
        new("chat_usage_limit_config_singleton_check", "the one row again", "DELETE FROM chat_usage_limit_config; INSERT INTO chat_usage_limit_config DEFAULT VALUES"),
        new("organization_id_not_zero", "organization-scoped role", CustomRole + "@org)"),
        new("groups_chat_spend_limit_micros_check", "no spend limit", Group + "NULL)"),
        new("groups_chat_spend_limit_micros_check", "spend limit 1", Group + "1)"),
        new("one_time_passcode_set", "passcode with expiry", User + ", hashed_one_time_passcode, one_time_passcode_expires_at) VALUES (gen_random_uuid(), 'otp@example.com', 'otp', '\\x00', now(), now(), '\\x01', now())"),
        new("users_chat_spend_limit_micros_check", "spend limit 1", User + ", chat_spend_limit_micros) VALUES (gen_random_uuid(), 'spend@example.com', 'spend', '\\x00', now(), now(), 1)"),
        new("users_email_not_empty", "service account without e-mail", User + ", is_service_account, login_type) VALUES (gen_random_uuid(), '', 'bot', '\\x00', now(), now(), true, 'none')"),
        new("users_service_account_login_type", "person with login type none", User + ", login_type) VALUES (gen_random_uuid(), 'sso@example.com', 'sso', '\\x00', now(), now(), 'none')"),
        new("users_username_min_length", "one-character username", User + ") VALUES (gen_random_uuid(), 'a@example.com', 'a', '\\x00', now(), now())"),
        new("mcp_server_configs_auth_type_check", "custom headers", McpConfig + "auth_type) VALUES ('Docs', 'docs', 'https://mcp.example.com', 'custom_headers')"),
        new("mcp_server_configs_availability_check", "forced on", McpConfig + "availability) VALUES ('Docs', 'docs', 'https://mcp.example.com', 'force_on')"),
        new("mcp_server_configs_transport_check", "server-sent events", McpConfig + "transport) VALUES ('Docs', 'docs', 'https://mcp.example.com', 'sse')"),
        new("max_provisioner_logs_length", "exactly 1 MiB", Job + "1048576)"),
        new("max_logs_length", "exactly 1 MiB", Agent + "logs_length" + AgentValues + "1048576)"),
        new("subsystems_not_none", "real subsystems", Agent + "subsystems" + AgentValues + "'{envbox,exectrace}')"),
        new("workspace_builds_deadline_below_max_deadline", "deadline equal to max deadline", Build + "'2026-03-20 08:00:00+00', '2026-03-20 08:00:00+00')"),
        new("workspace_builds_deadline_below_max_deadline", "deadline without max deadline", Build + "'2026-03-20 12:00:00+00', '0001-01-01 00:00:00+00')"),
        new("group_acl_is_object", "group ACL object", Workspace + "'{\"devs\": [\"read\"]}', '{}')"),
        new("user_acl_is_object", "user ACL object", Workspace + "'{}', '{\"alice\": [\"use\"]}')"),
        new("telemetry_lock_event_type_constraint", "boundary usage summary", "INSERT INTO telemetry_locks (event_type, period_ending_at) VALUES ('boundary_usage_summary', now())"),
        new("validation_monotonic_order", "decreasing", Parameter + "'decreasing')"),
        new("validation_monotonic_order", "no order", Parameter + "'')"),
        new("usage_event_type_check", "AI seats heartbeat", "INSERT INTO usage_events (id, event_type, event_data, created_at) VALUES ('evt-1', 'hb_ai_seats_v1', '{}', now())"),
    ];

    private NpgsqlConnection connection = null!;
    private World world = null!;

    public static TheoryData<string, string> RejectedRows => new(Rejected.Select(r => (r.Constraint, r.Scenario)));

    public static TheoryData<string, string> AcceptedRows => new(Accepted.Select(r => (r.Constraint, r.Scenario)));

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        connection = await database.OpenAsync();
        world = await World.CreateAsync(connection);
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();

    [Theory]
    [MemberData(nameof(RejectedRows))]
    public async Task ViolatingRowIsCheckViolationOfThatConstraint(string constraint, string scenario)
    {
        var row = Rejected.Single(r => r.Constraint == constraint && r.Scenario == scenario);

        await Rejection.AssertAsync(() => world.ExecuteAsync(row.Sql), PostgresErrorCodes.CheckViolation, constraint, TableOf(constraint));
    }

    [Theory]
    [MemberData(nameof(AcceptedRows))]
    public async Task NeighbouringRowIsAccepted(string constraint, string scenario)
    {
        var row = Accepted.Single(r => r.Constraint == constraint && r.Scenario == scenario);

        var affected = await world.ExecuteAsync(row.Sql);

        Assert.True(affected >= 1, $"{row.Sql} affected no row");
    }

    [Fact]
    public void EveryCheckThatCanRejectHasAViolatingRow()
    {
        var expected = Spec.Checks.Select(c => c.Name)
            .Where(name => name != "api_keys_allow_list_not_empty") // Cannot reject: see CheckEdgeCaseTests.
            .Order(StringComparer.Ordinal);

        Assert.Equal(expected, Rejected.Select(r => r.Constraint).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryCheckHasAnAcceptedRow()
    {
        Assert.Equal(
            Spec.Checks.Select(c => c.Name).Order(StringComparer.Ordinal),
            Accepted.Select(r => r.Constraint).Distinct().Order(StringComparer.Ordinal));
    }

    private static string TableOf(string constraint) => Spec.Checks.Single(c => c.Name == constraint).Table;

    private sealed record CheckRow(string Constraint, string Scenario, string Sql);
}

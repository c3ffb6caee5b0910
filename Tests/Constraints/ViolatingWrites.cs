using Coderd.Database.Constraints;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// Rows that break one constraint each, written to a real database so that the exception under
/// test is exactly what the server sends. Every write runs after a fresh set of valid parent rows,
/// inside a transaction that is rolled back, so nothing is left behind.
/// </summary>
internal static class ViolatingWrites
{
    /// <summary>Ids of the valid rows every violating write may refer to.</summary>
    internal sealed record Parents
    {
        public Guid Organization { get; } = Guid.NewGuid();
        public Guid User { get; } = Guid.NewGuid();
        public Guid Template { get; } = Guid.NewGuid();
        public Guid TemplateVersion { get; } = Guid.NewGuid();
        public Guid Job { get; } = Guid.NewGuid();
        public Guid Resource { get; } = Guid.NewGuid();
        public Guid Workspace { get; } = Guid.NewGuid();
        public Guid McpServerConfig { get; } = Guid.NewGuid();
        public string Slug { get; } = "slug-" + Guid.NewGuid().ToString("N");

        public string InsertSql => $"""
            INSERT INTO organizations (id, name, description, created_at, updated_at, display_name)
                VALUES ('{Organization}', 'org-{Organization:N}', '', now(), now(), 'Org');
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
                VALUES ('{User}', 'u-{User:N}@example.com', 'u-{User:N}', '\x00', now(), now());
            INSERT INTO templates (id, created_at, updated_at, organization_id, name, provisioner, active_version_id, created_by)
                VALUES ('{Template}', now(), now(), '{Organization}', 't', 'echo', '{TemplateVersion}', '{User}');
            INSERT INTO template_versions (id, template_id, organization_id, created_at, updated_at, name, readme, job_id, created_by)
                VALUES ('{TemplateVersion}', '{Template}', '{Organization}', now(), now(), 'v', '', '{Job}', '{User}');
            INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, storage_method, type, input, file_id)
                VALUES ('{Job}', now(), now(), '{Organization}', '{User}', 'echo', 'file', 'workspace_build', '{"{}"}', gen_random_uuid());
            INSERT INTO workspace_resources (id, created_at, job_id, transition, type, name)
                VALUES ('{Resource}', now(), '{Job}', 'start', 'null_resource', 'r');
            INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name)
                VALUES ('{Workspace}', now(), now(), '{User}', '{Organization}', '{Template}', 'w');
            INSERT INTO chat_providers (provider) VALUES ('openai');
            INSERT INTO mcp_server_configs (id, display_name, slug, url) VALUES ('{McpServerConfig}', 'MCP', '{Slug}', 'https://mcp.example.com');
            INSERT INTO mcp_server_user_tokens (mcp_server_config_id, user_id, access_token) VALUES ('{McpServerConfig}', '{User}', 'token');
            """;

        public string InsertAgent(string column, string value) => $"""
            INSERT INTO workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, architecture, operating_system, {column})
                VALUES (gen_random_uuid(), now(), now(), 'a', '{Resource}', gen_random_uuid(), 'amd64', 'linux', {value})
            """;

        public string InsertUser(string columns, string values) => $"""
            INSERT INTO users (id, hashed_password, created_at, updated_at, {columns})
                VALUES (gen_random_uuid(), '\x00', now(), now(), {values})
            """;
    }

    /// <summary>One write per CHECK constraint that breaks exactly that constraint.</summary>
    /// <remarks>
    /// <see cref="CheckConstraint.ApiKeysAllowListNotEmpty"/> is missing on purpose: no array makes
    /// <c>array_length(allow_list, 1) &gt; 0</c> false (it is NULL for <c>'{}'</c>), so no row can break it.
    /// </remarks>
    public static readonly IReadOnlyDictionary<CheckConstraint, Func<Parents, string>> Check = new Dictionary<CheckConstraint, Func<Parents, string>>
    {
        [CheckConstraint.ChatModelConfigsCompressionThresholdCheck] = _ =>
            "INSERT INTO chat_model_configs (provider, model, context_limit, compression_threshold) VALUES ('openai', 'm', 1000, 101)",
        [CheckConstraint.ChatModelConfigsContextLimitCheck] = _ =>
            "INSERT INTO chat_model_configs (provider, model, context_limit, compression_threshold) VALUES ('openai', 'm', 0, 50)",
        [CheckConstraint.ChatProvidersProviderCheck] = _ => "INSERT INTO chat_providers (provider) VALUES ('carrier-pigeon')",
        // The migration inserts the one chat_usage_limit_config row.
        [CheckConstraint.ChatUsageLimitConfigDefaultLimitMicrosCheck] = _ => "UPDATE chat_usage_limit_config SET default_limit_micros = -1",
        [CheckConstraint.ChatUsageLimitConfigPeriodCheck] = _ => "UPDATE chat_usage_limit_config SET period = 'year'",
        [CheckConstraint.ChatUsageLimitConfigSingletonCheck] = _ => "UPDATE chat_usage_limit_config SET singleton = false",
        [CheckConstraint.GroupAclIsObject] = p => $"UPDATE workspaces SET group_acl = '[]' WHERE id = '{p.Workspace}'",
        [CheckConstraint.GroupsChatSpendLimitMicrosCheck] = p =>
            $"INSERT INTO groups (id, name, organization_id, chat_spend_limit_micros) VALUES (gen_random_uuid(), 'g', '{p.Organization}', 0)",
        [CheckConstraint.MaxLogsLength] = p => p.InsertAgent("logs_length", "1048577"),
        [CheckConstraint.MaxProvisionerLogsLength] = p => $"UPDATE provisioner_jobs SET logs_length = 1048577 WHERE id = '{p.Job}'",
        [CheckConstraint.McpServerConfigsAuthTypeCheck] = p => $"UPDATE mcp_server_configs SET auth_type = 'password' WHERE id = '{p.McpServerConfig}'",
        [CheckConstraint.McpServerConfigsAvailabilityCheck] = p => $"UPDATE mcp_server_configs SET availability = 'always' WHERE id = '{p.McpServerConfig}'",
        [CheckConstraint.McpServerConfigsTransportCheck] = p => $"UPDATE mcp_server_configs SET transport = 'stdio' WHERE id = '{p.McpServerConfig}'",
        [CheckConstraint.OneTimePasscodeSet] = p => $"UPDATE users SET hashed_one_time_passcode = '\\x01' WHERE id = '{p.User}'",
        [CheckConstraint.OrganizationIdNotZero] = _ =>
            "INSERT INTO custom_roles (name, display_name, organization_id) VALUES ('r', 'r', '00000000-0000-0000-0000-000000000000')",
        [CheckConstraint.SubsystemsNotNone] = p => p.InsertAgent("subsystems", "'{envbox,none}'"),
        [CheckConstraint.TelemetryLockEventTypeConstraint] = _ =>
            "INSERT INTO telemetry_locks (event_type, period_ending_at) VALUES ('carrier_pigeon_summary', now())",
        [CheckConstraint.UsageEventTypeCheck] = _ =>
            "INSERT INTO usage_events (id, event_type, event_data, created_at) VALUES (gen_random_uuid()::text, 'carrier_pigeon_v1', '{}', now())",
        [CheckConstraint.UserAclIsObject] = p => $"UPDATE workspaces SET user_acl = '\"everyone\"' WHERE id = '{p.Workspace}'",
        [CheckConstraint.UsersChatSpendLimitMicrosCheck] = p => $"UPDATE users SET chat_spend_limit_micros = 0 WHERE id = '{p.User}'",
        [CheckConstraint.UsersEmailNotEmpty] = p => $"UPDATE users SET email = '' WHERE id = '{p.User}'",
        // A service account has an empty email (else users_email_not_empty) and must log in with 'none'.
        [CheckConstraint.UsersServiceAccountLoginType] = p =>
            $"UPDATE users SET is_service_account = true, email = '', login_type = 'password' WHERE id = '{p.User}'",
        // username defaults to '', so an insert that omits it is rejected.
        [CheckConstraint.UsersUsernameMinLength] = p => p.InsertUser("email", $"'v-{Guid.NewGuid():N}@example.com'"),
        [CheckConstraint.ValidationMonotonicOrder] = p => $"""
            INSERT INTO template_version_parameters (template_version_id, name, description, type, mutable, default_value, icon, validation_regex, validation_monotonic)
                VALUES ('{p.TemplateVersion}', 'p', '', 'number', false, '1', '', '', 'sideways')
            """,
        [CheckConstraint.WorkspaceBuildsDeadlineBelowMaxDeadline] = p => $"""
            INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id, deadline, max_deadline)
                VALUES (gen_random_uuid(), now(), now(), '{p.Workspace}', '{p.TemplateVersion}', 1, 'start', '{p.User}', '{p.Job}',
                        now() + interval '2 hours', now() + interval '1 hour')
            """,
    };

    /// <summary>
    /// Inserts fresh parents, runs <paramref name="write"/>, and returns the exception the server
    /// answered with; everything is rolled back.
    /// </summary>
    /// <exception cref="Xunit.Sdk.XunitException">The server accepted the write.</exception>
    public static async Task<PostgresException> CaptureAsync(MigratedDatabase database, Func<Parents, string> write)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var parents = new Parents();
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var setup = new NpgsqlCommand(parents.InsertSql, connection, transaction))
        {
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }

        var sql = write(parents);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            return e;
        }
        finally
        {
            await transaction.RollbackAsync(CancellationToken.None);
        }

        throw new Xunit.Sdk.XunitException($"The server accepted a write meant to violate a constraint: {sql}");
    }
}

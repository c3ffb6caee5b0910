using Coderd.Database.Migrations;
using Npgsql;
using static Coderd.Database.Tests.NamedMigrations;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The MCP migration on a database that already has users, providers, model configs and chats:
/// the rows survive it both ways, and it adds and removes exactly its own objects.
/// </summary>
public sealed class McpMigrationTests(PostgresFixture postgres) : IAsyncDisposable
{
    private static readonly string[] McpIndexes = ["idx_mcp_server_configs_enabled", "idx_mcp_server_configs_forced", "idx_mcp_server_user_tokens_user_id"];

    private readonly MigrationDatabases _databases = new(postgres);

    private static IEnumerable<string> Columns(SchemaSnapshot schema, string table) =>
        schema.Facts.Tables.Single(t => t.Name == table).Columns.Select(c => c.Name);

    private static IEnumerable<(string Table, string Name, string Def)> Indexes(SchemaSnapshot schema) =>
        schema.Facts.Tables.SelectMany(t => t.Indexes.Select(i => (t.Name, i.Name, i.Def)));

    private static IEnumerable<(string Table, string Name, string Type, string Def)> Constraints(SchemaSnapshot schema) =>
        schema.Facts.Tables.SelectMany(t => t.Constraints.Select(c => (t.Name, c.Name, c.Type, c.Def)));

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task McpMigrationKeepsExistingRowsAndGivesChatsNoServers()
    {
        var (connectionString, migrator) = await _databases.CreateAsync();
        await migrator.UpAsync(ValidateChatSpendLimits, Token);
        await using var connection = await OpenAsync(connectionString);
        await InsertChatHistoryAsync(connection);
        var tables = await ListAsync(connection, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'schema_version' ORDER BY 1");
        var before = await RowsAsync(connection, tables);

        await migrator.UpAsync(AddMcpServerConfigs, Token);

        var after = await RowsAsync(connection, tables, without: ("chats", "mcp_server_ids"));
        Assert.Equal(before, after);
        Assert.Equal(
            ["{}", "{}", "{}"],
            await ListAsync(connection, "SELECT mcp_server_ids::text FROM chats ORDER BY title"));
    }

    [Fact]
    public async Task McpMigrationDownRemovesExactlyItsObjectsAndKeepsEveryChat()
    {
        var (connectionString, migrator) = await _databases.CreateAsync();
        await migrator.UpAsync(ValidateChatSpendLimits, Token);
        var beforeSchema = await SchemaAssert.SnapshotAsync(connectionString);
        await using var connection = await OpenAsync(connectionString);
        await InsertChatHistoryAsync(connection);
        var beforeChats = await RowsAsync(connection, ["chats"]);

        await migrator.UpAsync(AddMcpServerConfigs, Token);
        var mcpSchema = await SchemaAssert.SnapshotAsync(connectionString);
        await ExecuteAsync(connection, """
            INSERT INTO mcp_server_configs (id, display_name, slug, url) VALUES ('0a000000-0000-0000-0000-000000000001', 'GitHub', 'github', 'https://mcp.example.com');
            INSERT INTO mcp_server_user_tokens (mcp_server_config_id, user_id, access_token)
                SELECT '0a000000-0000-0000-0000-000000000001', id, 'token' FROM users;
            UPDATE chats SET mcp_server_ids = '{0a000000-0000-0000-0000-000000000001}' WHERE title = 'first';
            """);
        await migrator.DownAsync(ValidateChatSpendLimits, Token);

        // What the MCP migration added is exactly: two tables, their keys and indexes, one column.
        Assert.Equal(
            ["mcp_server_configs", "mcp_server_user_tokens"],
            mcpSchema.Facts.Tables.Select(t => t.Name).Except(beforeSchema.Facts.Tables.Select(t => t.Name)).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["mcp_server_ids"],
            Columns(mcpSchema, "chats").Except(Columns(beforeSchema, "chats")));
        Assert.Equal(
            McpIndexes.Order(StringComparer.Ordinal),
            Indexes(mcpSchema).Except(Indexes(beforeSchema)).Select(i => i.Name).Order(StringComparer.Ordinal));
        var addedConstraints = Constraints(mcpSchema).Except(Constraints(beforeSchema)).ToList();
        Assert.Equal(
            ["mcp_server_configs_pkey", "mcp_server_configs_slug_key", "mcp_server_user_tokens_mcp_server_config_id_user_id_key", "mcp_server_user_tokens_pkey"],
            addedConstraints.Where(c => c.Type is "p" or "u").Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(addedConstraints, c => Assert.StartsWith("mcp_server_", c.Table, StringComparison.Ordinal));

        // ...and Down removed exactly that: the schema is the one before, and so is every chat.
        SchemaAssert.Same(beforeSchema, await SchemaAssert.SnapshotAsync(connectionString));
        Assert.Equal(beforeChats, await RowsAsync(connection, ["chats"]));
    }

    [Fact]
    public void McpMigrationDirectlyFollowsTheSpendLimitValidation()
    {
        // The tests above take the schema before MCP to be the one after the validation.
        Assert.Equal(ValidateChatSpendLimits, History.Last(m => m.Version < AddMcpServerConfigs).Version);
    }

    /// <summary>Users, an organisation and group, providers (one key encrypted), model configs and a chat tree.</summary>
    private static Task InsertChatHistoryAsync(NpgsqlConnection connection) => ExecuteAsync(connection, """
        INSERT INTO organizations (id, name, description, created_at, updated_at, display_name)
            VALUES ('00000000-0000-0000-0000-0000000000a1', 'acme', '', '2026-03-01 10:00:00+00', '2026-03-01 10:00:00+00', 'Acme');
        INSERT INTO groups (id, name, organization_id, chat_spend_limit_micros)
            VALUES ('00000000-0000-0000-0000-0000000000a2', 'devs', '00000000-0000-0000-0000-0000000000a1', 2500000);
        INSERT INTO users (id, email, username, hashed_password, created_at, updated_at, chat_spend_limit_micros) VALUES
            ('00000000-0000-0000-0000-0000000000b1', 'alice@example.com', 'alice', '\x01', '2026-03-01 10:00:00+00', '2026-03-01 10:00:00+00', NULL),
            ('00000000-0000-0000-0000-0000000000b2', 'bob@example.com', 'bob', '\x02', '2026-03-01 10:00:00+00', '2026-03-01 10:00:00+00', 5000000);
        INSERT INTO dbcrypt_keys (number, active_key_digest, test) VALUES (1, 'digest-1', 'coder');
        INSERT INTO chat_providers (id, provider, display_name, api_key, api_key_key_id, created_by, created_at, updated_at) VALUES
            ('00000000-0000-0000-0000-0000000000c1', 'openai', 'OpenAI', 'sk-plain', NULL, '00000000-0000-0000-0000-0000000000b1', '2026-03-01 11:00:00+00', '2026-03-01 11:00:00+00'),
            ('00000000-0000-0000-0000-0000000000c2', 'anthropic', 'Anthropic', 'sealed', 'digest-1', NULL, '2026-03-01 11:00:00+00', '2026-03-01 11:00:00+00');
        INSERT INTO chat_model_configs (id, provider, model, context_limit, compression_threshold, is_default, created_at, updated_at) VALUES
            ('00000000-0000-0000-0000-0000000000d1', 'openai', 'gpt-5', 400000, 70, true, '2026-03-01 12:00:00+00', '2026-03-01 12:00:00+00'),
            ('00000000-0000-0000-0000-0000000000d2', 'anthropic', 'claude', 200000, 80, false, '2026-03-01 12:00:00+00', '2026-03-01 12:00:00+00');
        INSERT INTO chats (id, owner_id, title, status, last_model_config_id, parent_chat_id, root_chat_id, archived, last_error, mode, created_at, updated_at) VALUES
            ('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-0000000000b1', 'first', 'completed', '00000000-0000-0000-0000-0000000000d1', NULL, NULL, false, NULL, NULL, '2026-03-02 09:00:00+00', '2026-03-02 09:30:00+00'),
            ('00000000-0000-0000-0000-0000000000e2', '00000000-0000-0000-0000-0000000000b1', 'second', 'error', '00000000-0000-0000-0000-0000000000d2', '00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-0000000000e1', true, 'rate limited', 'computer_use', '2026-03-02 10:00:00+00', '2026-03-02 10:05:00+00'),
            ('00000000-0000-0000-0000-0000000000e3', '00000000-0000-0000-0000-0000000000b2', 'third', 'waiting', '00000000-0000-0000-0000-0000000000d1', NULL, NULL, false, NULL, NULL, '2026-03-02 11:00:00+00', '2026-03-02 11:00:00+00');
        UPDATE chat_usage_limit_config SET enabled = true, default_limit_micros = 1000000, period = 'week';
        """);

    /// <summary>Every row of each table as <c>table: JSON text</c> (in UTC), optionally without one column, sorted.</summary>
    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, IEnumerable<string> tables, (string Table, string Column)? without = null)
    {
        var rows = new List<string>();
        foreach (var table in tables)
        {
            var drop = without is { } w && w.Table == table ? $" - '{w.Column}'" : "";
            rows.AddRange(await ListAsync(connection, $"SELECT '{table}: ' || (to_jsonb(t){drop})::text FROM {table} t ORDER BY 1"));
        }

        return rows;
    }
}

using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The MCP tables and <c>chats.mcp_server_ids</c>: the keys and references the constraints module
/// classifies (spec section 4) and what deleting a user or a config does.
/// </summary>
public sealed class McpServerTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private const string Token = "INSERT INTO mcp_server_user_tokens (mcp_server_config_id, user_id, access_token) VALUES (@config, @user, 'token')";

    private NpgsqlConnection connection = null!;
    private World world = null!;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        connection = await database.OpenAsync();
        world = await World.CreateAsync(connection);
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();

    [Fact]
    public async Task DuplicateSlugIsUniqueViolationOfSlugKey()
    {
        await world.McpConfigAsync("github");

        await Rejection.AssertAsync(() => world.McpConfigAsync("github"),
            PostgresErrorCodes.UniqueViolation, "mcp_server_configs_slug_key", "mcp_server_configs");
    }

    [Fact]
    public async Task DifferentSlugIsAccepted()
    {
        await world.McpConfigAsync("github");
        await world.McpConfigAsync("linear");

        Assert.Equal(2L, await world.ScalarAsync<long>("SELECT count(*) FROM mcp_server_configs"));
    }

    [Fact]
    public async Task SecondTokenForSameConfigAndUserIsUniqueViolationOfConfigUserKey()
    {
        var config = await world.McpConfigAsync("github");
        await world.ExecuteAsync(Token, ("config", config), ("user", world.Owner));

        await Rejection.AssertAsync(() => world.ExecuteAsync(Token, ("config", config), ("user", world.Owner)),
            PostgresErrorCodes.UniqueViolation, "mcp_server_user_tokens_mcp_server_config_id_user_id_key", "mcp_server_user_tokens");
    }

    [Fact]
    public async Task TokensForOtherUserOrOtherConfigAreAccepted()
    {
        var github = await world.McpConfigAsync("github");
        var linear = await world.McpConfigAsync("linear");
        var alice = await world.UserAsync("alice");

        await world.ExecuteAsync(Token, ("config", github), ("user", world.Owner));
        await world.ExecuteAsync(Token, ("config", github), ("user", alice));
        await world.ExecuteAsync(Token, ("config", linear), ("user", world.Owner));

        Assert.Equal(3L, await world.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens"));
    }

    /// <summary>The six columns that name the dbcrypt key their neighbouring value is encrypted with.</summary>
    public static TheoryData<string, string> KeyIdColumns { get; } = new()
    {
        { "chat_providers", "api_key_key_id" },
        { "mcp_server_configs", "oauth2_client_secret_key_id" },
        { "mcp_server_configs", "api_key_value_key_id" },
        { "mcp_server_configs", "custom_headers_key_id" },
        { "mcp_server_user_tokens", "access_token_key_id" },
        { "mcp_server_user_tokens", "refresh_token_key_id" },
    };

    [Theory]
    [MemberData(nameof(KeyIdColumns))]
    public async Task UnknownKeyDigestIsForeignKeyViolationOfThatColumnsKey(string table, string column)
    {
        var sql = await EncryptedRowSqlAsync(table, column);

        await Rejection.AssertAsync(() => world.ExecuteAsync(sql, ("key", "digest-nobody-has")),
            PostgresErrorCodes.ForeignKeyViolation, $"{table}_{column}_fkey", table);
    }

    [Theory]
    [MemberData(nameof(KeyIdColumns))]
    public async Task ActiveKeyDigestIsAccepted(string table, string column)
    {
        var sql = await EncryptedRowSqlAsync(table, column);

        Assert.Equal(1, await world.ExecuteAsync(sql, ("key", World.KeyDigest)));
    }

    [Fact]
    public async Task RevokedKeyDigestIsForeignKeyViolation()
    {
        // The keys reference active_key_digest only: a digest known solely as revoked is unknown.
        await world.ExecuteAsync("INSERT INTO dbcrypt_keys (number, revoked_key_digest, test) VALUES (2, 'digest-revoked', 'coder')");
        var sql = await EncryptedRowSqlAsync("mcp_server_configs", "api_key_value_key_id");

        await Rejection.AssertAsync(() => world.ExecuteAsync(sql, ("key", "digest-revoked")),
            PostgresErrorCodes.ForeignKeyViolation, "mcp_server_configs_api_key_value_key_id_fkey", "mcp_server_configs");
    }

    [Fact]
    public async Task NullAccessTokenIsNotNullViolationNamingTheColumn()
    {
        var config = await world.McpConfigAsync("github");

        var error = await Assert.ThrowsAsync<PostgresException>(() => world.ExecuteAsync(
            "INSERT INTO mcp_server_user_tokens (mcp_server_config_id, user_id, access_token) VALUES (@config, @owner, NULL)", ("config", config)));

        Assert.Equal(
            (PostgresErrorCodes.NotNullViolation, "mcp_server_user_tokens", "access_token", (string?)null),
            (error.SqlState, error.TableName, error.ColumnName, error.ConstraintName));
    }

    [Fact]
    public async Task DeletingUserDeletesItsTokensAndChatsAndNullsConfigAuthors()
    {
        // Given alice, who owns nothing behind a RESTRICT or NO ACTION key, with a config she
        // wrote, a token for it and a chat; and the owner's token and chat beside hers.
        var alice = await world.UserAsync("alice");
        var config = await world.McpConfigAsync("github", createdBy: alice);
        await world.ExecuteAsync(Token, ("config", config), ("user", alice));
        await world.ExecuteAsync(Token, ("config", config), ("user", world.Owner));
        await world.ChatAsync(alice);
        var ownersChat = await world.ChatAsync(world.Owner);

        // When she is deleted (after her status history, whose NO ACTION key blocks the delete:
        // record_user_status_change gives every user a row there),
        await world.ExecuteAsync("DELETE FROM user_status_changes WHERE user_id = @user", ("user", alice));
        Assert.Equal(1, await world.ExecuteAsync("DELETE FROM users WHERE id = @user", ("user", alice)));

        // then her tokens and chats are gone, the config stays without author, the rest is untouched.
        Assert.Equal(
            (0L, 1L, 0L, 1L),
            (await world.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens WHERE user_id = @user", ("user", alice)),
             await world.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens WHERE user_id = @owner"),
             await world.ScalarAsync<long>("SELECT count(*) FROM chats WHERE owner_id = @user", ("user", alice)),
             await world.ScalarAsync<long>("SELECT count(*) FROM chats WHERE id = @chat", ("chat", ownersChat))));
        Assert.True(await world.ScalarAsync<bool>(
            "SELECT created_by IS NULL AND updated_by IS NULL FROM mcp_server_configs WHERE id = @config", ("config", config)));
    }

    [Fact]
    public async Task DeletingUserWhoCreatedATemplateIsRestricted()
    {
        // The neighbouring case: the owner created the template, whose key is ON DELETE RESTRICT.
        await world.ExecuteAsync("DELETE FROM user_status_changes WHERE user_id = @owner");
        await Rejection.AssertAsync(() => world.ExecuteAsync("DELETE FROM users WHERE id = @owner"),
            PostgresErrorCodes.ForeignKeyViolation, "templates_created_by_fkey", "templates");
    }

    [Fact]
    public async Task DeletingConfigDeletesItsTokens()
    {
        var github = await world.McpConfigAsync("github");
        var linear = await world.McpConfigAsync("linear");
        await world.ExecuteAsync(Token, ("config", github), ("user", world.Owner));
        await world.ExecuteAsync(Token, ("config", linear), ("user", world.Owner));

        Assert.Equal(1, await world.ExecuteAsync("DELETE FROM mcp_server_configs WHERE id = @config", ("config", github)));

        Assert.Equal(
            (0L, 1L),
            (await world.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens WHERE mcp_server_config_id = @config", ("config", github)),
             await world.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens WHERE mcp_server_config_id = @config", ("config", linear))));
    }

    [Fact]
    public async Task McpServerIdsDefaultsToEmptyArray()
    {
        var chat = await world.ChatAsync(world.Owner);

        var ids = await world.ScalarAsync<Guid[]>("SELECT mcp_server_ids FROM chats WHERE id = @chat", ("chat", chat));

        Assert.Empty(ids);
    }

    [Fact]
    public async Task McpServerIdsRoundTripsUuidArray()
    {
        Guid[] configs = [await world.McpConfigAsync("github"), await world.McpConfigAsync("linear")];
        var chat = await world.ChatAsync(world.Owner);

        await world.ExecuteAsync("UPDATE chats SET mcp_server_ids = @ids WHERE id = @chat", ("ids", configs), ("chat", chat));

        Assert.Equal(configs, await world.ScalarAsync<Guid[]>("SELECT mcp_server_ids FROM chats WHERE id = @chat", ("chat", chat)));
    }

    [Fact]
    public async Task McpServerIdsAcceptsIdsOfMissingConfigs()
    {
        // No foreign key: a chat may keep naming a config deleted since.
        var deleted = await world.McpConfigAsync("github");
        await world.ExecuteAsync("DELETE FROM mcp_server_configs");
        Guid[] ids = [deleted, Guid.NewGuid()];
        var chat = Guid.NewGuid();

        await world.ExecuteAsync(
            "INSERT INTO chats (id, owner_id, last_model_config_id, mcp_server_ids) VALUES (@chat, @owner, @model, @ids)", ("chat", chat), ("ids", ids));

        Assert.Equal(ids, await world.ScalarAsync<Guid[]>("SELECT mcp_server_ids FROM chats WHERE id = @chat", ("chat", chat)));
    }

    /// <summary>An INSERT of a row that stores a value encrypted with key <c>@key</c> in <paramref name="column"/>.</summary>
    private async Task<string> EncryptedRowSqlAsync(string table, string column)
    {
        switch (table)
        {
            case "chat_providers":
                return $"INSERT INTO chat_providers (provider, api_key, {column}) VALUES ('anthropic', 'sealed', @key)";
            case "mcp_server_configs":
                return $"INSERT INTO mcp_server_configs (display_name, slug, url, {column}) VALUES ('Docs', 'docs', 'https://mcp.example.com', @key)";
            default:
                var config = await world.McpConfigAsync("github");
                return $"INSERT INTO mcp_server_user_tokens (mcp_server_config_id, user_id, access_token, refresh_token, {column}) " +
                       $"VALUES ('{config}', @owner, 'sealed', 'sealed', @key)";
        }
    }
}

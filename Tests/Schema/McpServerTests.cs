using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// What the MCP tables and <c>chats.mcp_server_ids</c> do beyond their keys (which the constraint
/// suite breaks one by one): which rows may coexist, what deleting a user or a config does, which
/// dbcrypt digest the key columns accept, and how the id array behaves.
/// </summary>
public sealed class McpServerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    [Fact]
    public async Task TokensForOtherUserOrOtherConfigAreAccepted()
    {
        var github = await ConfigAsync();
        var linear = await ConfigAsync();
        var owner = await Builder.InsertIdAsync("users");
        var alice = await Builder.InsertIdAsync("users");

        await TokenAsync(github, owner);
        await TokenAsync(github, alice);
        await TokenAsync(linear, owner);

        Assert.Equal(3L, await Builder.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens"));
    }

    [Fact]
    public async Task RevokedKeyDigestIsForeignKeyViolation()
    {
        // The keys reference active_key_digest only: a digest known solely as revoked is unknown.
        await Builder.InsertAsync("dbcrypt_keys", ("active_key_digest", null), ("revoked_key_digest", "digest-revoked"));

        await Rejection.AssertAsync(() => Builder.InsertAsync("mcp_server_configs", ("api_key_value_key_id", "digest-revoked")),
            PostgresErrorCodes.ForeignKeyViolation, "mcp_server_configs_api_key_value_key_id_fkey", "mcp_server_configs");
    }

    [Fact]
    public async Task DeletingUserDeletesItsTokensAndChatsAndNullsConfigAuthors()
    {
        // Given alice, with a config she wrote, a token for it and a chat; and another user's token
        // and chat beside hers,
        var alice = await Builder.InsertIdAsync("users");
        var other = await Builder.InsertIdAsync("users");
        var config = await ConfigAsync(createdBy: alice);
        await TokenAsync(config, alice);
        await TokenAsync(config, other);
        await ChatAsync(alice);
        var othersChat = await ChatAsync(other);

        // when she is deleted (after her status history, which a NO ACTION key keeps otherwise),
        await Builder.ExecuteAsync($"DELETE FROM user_status_changes WHERE user_id = '{alice}'");
        Assert.Equal(1, await Builder.ExecuteAsync($"DELETE FROM users WHERE id = '{alice}'"));

        // then her tokens and chats are gone, the config stays without author, the rest is untouched.
        Assert.Equal(
            (0L, 1L, 0L, 1L),
            (await Builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE user_id = '{alice}'"),
             await Builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE user_id = '{other}'"),
             await Builder.ScalarAsync<long>($"SELECT count(*) FROM chats WHERE owner_id = '{alice}'"),
             await Builder.ScalarAsync<long>($"SELECT count(*) FROM chats WHERE id = '{othersChat}'")));
        Assert.True(await Builder.ScalarAsync<bool>($"SELECT created_by IS NULL AND updated_by IS NULL FROM mcp_server_configs WHERE id = '{config}'"));
    }

    [Fact]
    public async Task DeletingConfigDeletesItsTokens()
    {
        var github = await ConfigAsync();
        var linear = await ConfigAsync();
        var owner = await Builder.InsertIdAsync("users");
        await TokenAsync(github, owner);
        await TokenAsync(linear, owner);

        Assert.Equal(1, await Builder.ExecuteAsync($"DELETE FROM mcp_server_configs WHERE id = '{github}'"));

        Assert.Equal(
            (0L, 1L),
            (await Builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE mcp_server_config_id = '{github}'"),
             await Builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE mcp_server_config_id = '{linear}'")));
    }

    [Fact]
    public async Task McpServerIdsDefaultsToEmptyArray()
    {
        var chat = await Builder.InsertAsync("chats");

        Assert.Equal("{}", chat["mcp_server_ids"]);
    }

    [Fact]
    public async Task McpServerIdsRoundTripsUuidArray()
    {
        Guid[] configs = [await ConfigAsync(), await ConfigAsync()];
        var chat = await ChatAsync(await Builder.InsertIdAsync("users"));

        await Builder.ExecuteAsync("UPDATE chats SET mcp_server_ids = @ids WHERE id = @chat", ("ids", configs), ("chat", chat));

        Assert.Equal(configs, await Builder.ScalarAsync<Guid[]>($"SELECT mcp_server_ids FROM chats WHERE id = '{chat}'"));
    }

    [Fact]
    public async Task McpServerIdsAcceptsIdsOfMissingConfigs()
    {
        // No foreign key: a chat may keep naming a config deleted since.
        var deleted = await ConfigAsync();
        await Builder.ExecuteAsync("DELETE FROM mcp_server_configs");
        Guid[] ids = [deleted, Guid.NewGuid()];

        var chat = await Builder.InsertIdAsync("chats", ("mcp_server_ids", $"{{{ids[0]},{ids[1]}}}"));

        Assert.Equal(ids, await Builder.ScalarAsync<Guid[]>($"SELECT mcp_server_ids FROM chats WHERE id = '{chat}'"));
    }

    private Task<Guid> ConfigAsync(Guid? createdBy = null) => Builder.InsertIdAsync("mcp_server_configs", ("created_by", createdBy), ("updated_by", createdBy));

    private Task<Row> TokenAsync(Guid config, Guid user) => Builder.InsertAsync("mcp_server_user_tokens", ("mcp_server_config_id", config), ("user_id", user));

    private Task<Guid> ChatAsync(Guid owner) => Builder.InsertIdAsync("chats", ("owner_id", owner));
}

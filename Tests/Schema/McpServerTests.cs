using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// What the MCP tables and <c>chats.mcp_server_ids</c> do beyond their keys (which the constraint
/// suite breaks one by one): which rows may coexist, what deleting a user or a config does, which
/// dbcrypt digest the key columns accept, and how the id array behaves.
/// </summary>
public sealed class McpServerTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private RowBuilder builder = null!;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        builder = await RowBuilder.OpenAsync(database);
    }

    public ValueTask DisposeAsync() => builder.DisposeAsync();

    [Fact]
    public async Task TokensForOtherUserOrOtherConfigAreAccepted()
    {
        var github = await ConfigAsync();
        var linear = await ConfigAsync();
        var owner = await UserAsync();
        var alice = await UserAsync();

        await TokenAsync(github, owner);
        await TokenAsync(github, alice);
        await TokenAsync(linear, owner);

        Assert.Equal(3L, await builder.ScalarAsync<long>("SELECT count(*) FROM mcp_server_user_tokens"));
    }

    [Fact]
    public async Task RevokedKeyDigestIsForeignKeyViolation()
    {
        // The keys reference active_key_digest only: a digest known solely as revoked is unknown.
        await builder.InsertAsync("dbcrypt_keys", ("active_key_digest", null), ("revoked_key_digest", "digest-revoked"));

        await Rejection.AssertAsync(() => builder.InsertAsync("mcp_server_configs", ("api_key_value_key_id", "digest-revoked")),
            PostgresErrorCodes.ForeignKeyViolation, "mcp_server_configs_api_key_value_key_id_fkey", "mcp_server_configs");
    }

    [Fact]
    public async Task DeletingUserDeletesItsTokensAndChatsAndNullsConfigAuthors()
    {
        // Given alice, with a config she wrote, a token for it and a chat; and another user's token
        // and chat beside hers,
        var alice = await UserAsync();
        var other = await UserAsync();
        var config = await ConfigAsync(createdBy: alice);
        await TokenAsync(config, alice);
        await TokenAsync(config, other);
        await ChatAsync(alice);
        var othersChat = await ChatAsync(other);

        // when she is deleted (after her status history, which a NO ACTION key keeps otherwise),
        await builder.ExecuteAsync($"DELETE FROM user_status_changes WHERE user_id = '{alice}'");
        Assert.Equal(1, await builder.ExecuteAsync($"DELETE FROM users WHERE id = '{alice}'"));

        // then her tokens and chats are gone, the config stays without author, the rest is untouched.
        Assert.Equal(
            (0L, 1L, 0L, 1L),
            (await builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE user_id = '{alice}'"),
             await builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE user_id = '{other}'"),
             await builder.ScalarAsync<long>($"SELECT count(*) FROM chats WHERE owner_id = '{alice}'"),
             await builder.ScalarAsync<long>($"SELECT count(*) FROM chats WHERE id = '{othersChat}'")));
        Assert.True(await builder.ScalarAsync<bool>($"SELECT created_by IS NULL AND updated_by IS NULL FROM mcp_server_configs WHERE id = '{config}'"));
    }

    [Fact]
    public async Task DeletingConfigDeletesItsTokens()
    {
        var github = await ConfigAsync();
        var linear = await ConfigAsync();
        var owner = await UserAsync();
        await TokenAsync(github, owner);
        await TokenAsync(linear, owner);

        Assert.Equal(1, await builder.ExecuteAsync($"DELETE FROM mcp_server_configs WHERE id = '{github}'"));

        Assert.Equal(
            (0L, 1L),
            (await builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE mcp_server_config_id = '{github}'"),
             await builder.ScalarAsync<long>($"SELECT count(*) FROM mcp_server_user_tokens WHERE mcp_server_config_id = '{linear}'")));
    }

    [Fact]
    public async Task McpServerIdsDefaultsToEmptyArray()
    {
        var chat = await builder.InsertAsync("chats");

        Assert.Equal("{}", chat["mcp_server_ids"]);
    }

    [Fact]
    public async Task McpServerIdsRoundTripsUuidArray()
    {
        Guid[] configs = [await ConfigAsync(), await ConfigAsync()];
        var chat = await ChatAsync(await UserAsync());

        await builder.ExecuteAsync("UPDATE chats SET mcp_server_ids = @ids WHERE id = @chat", ("ids", configs), ("chat", chat));

        Assert.Equal(configs, await builder.ScalarAsync<Guid[]>($"SELECT mcp_server_ids FROM chats WHERE id = '{chat}'"));
    }

    [Fact]
    public async Task McpServerIdsAcceptsIdsOfMissingConfigs()
    {
        // No foreign key: a chat may keep naming a config deleted since.
        var deleted = await ConfigAsync();
        await builder.ExecuteAsync("DELETE FROM mcp_server_configs");
        Guid[] ids = [deleted, Guid.NewGuid()];

        var chat = await builder.InsertIdAsync("chats", ("mcp_server_ids", $"{{{ids[0]},{ids[1]}}}"));

        Assert.Equal(ids, await builder.ScalarAsync<Guid[]>($"SELECT mcp_server_ids FROM chats WHERE id = '{chat}'"));
    }

    private Task<Guid> UserAsync() => builder.InsertIdAsync("users");

    private Task<Guid> ConfigAsync(Guid? createdBy = null) => builder.InsertIdAsync("mcp_server_configs", ("created_by", createdBy), ("updated_by", createdBy));

    private Task TokenAsync(Guid config, Guid user) => builder.InsertAsync("mcp_server_user_tokens", ("mcp_server_config_id", config), ("user_id", user));

    private Task<Guid> ChatAsync(Guid owner) => builder.InsertIdAsync("chats", ("owner_id", owner));
}

using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The user triggers of <see cref="M2026_02_16_0002_AddUserTriggers"/>: what a soft-deleted user
/// loses and may no longer get, the status and deletion history, and the API key behind an OAuth2
/// token (behavior.md 2.5 to 2.9).
/// </summary>
public sealed class UserTriggerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    [Fact]
    public async Task SoftDeletedUserLosesOwnApiKeysAndLinksOnly()
    {
        var alice = await Builder.InsertIdAsync("users", ("login_type", "github"));
        var bob = await Builder.InsertIdAsync("users");
        await ApiKeyAsync(alice);
        await ApiKeyAsync(alice);
        var bobKey = await ApiKeyAsync(bob);
        await UserLinkAsync(alice, "github");
        await UserLinkAsync(alice, "oidc");
        await UserLinkAsync(bob, "github");

        await Builder.ExecuteAsync("UPDATE users SET deleted = true WHERE id = @alice", ("alice", alice));

        Assert.Equal([bobKey], await Builder.ColumnAsync<string>("SELECT id FROM api_keys"));
        Assert.Equal([bob], await Builder.ColumnAsync<Guid>("SELECT user_id FROM user_links"));
        Assert.Equal("github", await Builder.ScalarAsync<string>("SELECT login_type::text FROM users WHERE id = @alice", ("alice", alice)));
    }

    [Fact]
    public async Task EveryUpdateOfDeletedUserRemovesKeysMovedOntoIt()
    {
        var alice = await Builder.InsertIdAsync("users", ("deleted", true));
        var bob = await Builder.InsertIdAsync("users");
        var key = await ApiKeyAsync(bob);
        // Updates of api_keys are not checked, so a key can be moved onto a deleted user.
        await Builder.ExecuteAsync("UPDATE api_keys SET user_id = @alice WHERE id = @key", ("alice", alice), ("key", key));
        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM api_keys"));

        await Builder.ExecuteAsync("UPDATE users SET name = 'still deleted' WHERE id = @alice", ("alice", alice));

        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task SoftDeletedUserLosesOAuth2TokensThroughTheirApiKeys()
    {
        var alice = await Builder.InsertIdAsync("users");
        var key = await ApiKeyAsync(alice);
        await OAuth2TokenAsync(await OAuth2SecretAsync(), key, alice);

        await Builder.ExecuteAsync("UPDATE users SET deleted = true WHERE id = @alice", ("alice", alice));

        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM oauth2_provider_app_tokens"));
    }

    [Fact]
    public async Task InsertRecordsInitialStatusAtUpdatedAt()
    {
        var id = await Builder.InsertIdAsync("users", ("updated_at", "2024-01-02 03:04:05+00"), ("status", "active"));

        Assert.Equal([$"{id} active 2024-01-02 03:04:05+00"], await StatusChangesAsync());
        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM user_deleted"));
    }

    [Fact]
    public async Task StatusChangeIsRecordedAndSameStatusIsNot()
    {
        var alice = await Builder.InsertIdAsync("users", ("status", "active"));
        await Builder.ExecuteAsync("DELETE FROM user_status_changes");

        await Builder.ExecuteAsync("UPDATE users SET status = 'active', name = 'x' WHERE id = @alice", ("alice", alice));
        await Builder.ExecuteAsync("UPDATE users SET status = 'suspended', updated_at = '2024-05-06 07:08:09+00' WHERE id = @alice", ("alice", alice));

        Assert.Equal([$"{alice} suspended 2024-05-06 07:08:09+00"], await StatusChangesAsync());
    }

    [Fact]
    public async Task SoftDeleteWithStatusChangeRecordsBothAtUpdatedAt()
    {
        var alice = await Builder.InsertIdAsync("users", ("status", "active"));
        await Builder.ExecuteAsync("DELETE FROM user_status_changes");

        await Builder.ExecuteAsync(
            "UPDATE users SET deleted = true, status = 'dormant', updated_at = '2024-05-06 07:08:09+00' WHERE id = @alice", ("alice", alice));

        Assert.Equal([$"{alice} dormant 2024-05-06 07:08:09+00"], await StatusChangesAsync());
        Assert.Equal(
            [$"{alice} 2024-05-06 07:08:09+00"],
            await Builder.ColumnAsync<string>("SELECT user_id || ' ' || to_char(deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"+00\"') FROM user_deleted"));
    }

    [Fact]
    public async Task OnlyTheFalseToTrueChangeRecordsDeletion()
    {
        var alice = await Builder.InsertIdAsync("users", ("deleted", true));
        var bob = await Builder.InsertIdAsync("users");
        await Builder.ExecuteAsync("UPDATE users SET deleted = true WHERE id = @bob", ("bob", bob));

        // Inserted deleted, updated while deleted, undeleted: none of these is a deletion.
        await Builder.ExecuteAsync("UPDATE users SET deleted = true, name = 'x' WHERE id IN (@alice, @bob)", ("alice", alice), ("bob", bob));
        await Builder.ExecuteAsync("UPDATE users SET deleted = false WHERE id = @alice", ("alice", alice));

        Assert.Equal([bob], await Builder.ColumnAsync<Guid>("SELECT user_id FROM user_deleted"));
        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(*) FROM user_status_changes"));
    }

    [Fact]
    public async Task HardDeleteOfUserWithHistoryIsForeignKeyViolation()
    {
        var alice = await Builder.InsertIdAsync("users");

        await Rejection.AssertAsync(() => Builder.ExecuteAsync("DELETE FROM users WHERE id = @alice", ("alice", alice)),
            PostgresErrorCodes.ForeignKeyViolation, "user_status_changes_user_id_fkey", "user_status_changes");
    }

    [Fact]
    public async Task ApiKeyForDeletedUserIsRefused()
    {
        var alice = await Builder.InsertIdAsync("users", ("deleted", true));

        await Raised.AssertAsync(() => ApiKeyAsync(alice), PostgresErrorCodes.RaiseException, "Cannot create API key for deleted user");
    }

    [Fact]
    public async Task ApiKeyForLiveUserIsAccepted()
    {
        var alice = await Builder.InsertIdAsync("users");

        var key = await ApiKeyAsync(alice);

        Assert.Equal([key], await Builder.ColumnAsync<string>("SELECT id FROM api_keys"));
    }

    [Fact]
    public async Task ApiKeyForUnknownUserIsForeignKeyViolation()
    {
        await Rejection.AssertAsync(() => ApiKeyAsync(Guid.NewGuid()),
            PostgresErrorCodes.ForeignKeyViolation, "api_keys_user_id_uuid_fkey", "api_keys");
    }

    [Fact]
    public async Task UserLinkForDeletedUserIsRefused()
    {
        var alice = await Builder.InsertIdAsync("users", ("deleted", true));

        await Raised.AssertAsync(() => UserLinkAsync(alice), PostgresErrorCodes.RaiseException, "Cannot create user_link for deleted user");
    }

    [Fact]
    public async Task MovingUserLinkOntoDeletedUserIsRefused()
    {
        var alice = await Builder.InsertIdAsync("users", ("deleted", true));
        var bob = await Builder.InsertIdAsync("users");
        await UserLinkAsync(bob);

        await Raised.AssertAsync(() => Builder.ExecuteAsync("UPDATE user_links SET user_id = @alice", ("alice", alice)),
            PostgresErrorCodes.RaiseException, "Cannot create user_link for deleted user");
    }

    [Fact]
    public async Task UpdatingLinkOfLiveUserIsAccepted()
    {
        var bob = await Builder.InsertIdAsync("users");
        await UserLinkAsync(bob);

        Assert.Equal(1, await Builder.ExecuteAsync("UPDATE user_links SET oauth_access_token = 'fresh' WHERE user_id = @bob", ("bob", bob)));
    }

    [Fact]
    public async Task DeletingTokenDeletesItsApiKeyOnly()
    {
        var alice = await Builder.InsertIdAsync("users");
        var key = await ApiKeyAsync(alice);
        var other = await ApiKeyAsync(alice);
        var token = await OAuth2TokenAsync(await OAuth2SecretAsync(), key, alice);

        await Builder.ExecuteAsync("DELETE FROM oauth2_provider_app_tokens WHERE id = @token", ("token", token));

        Assert.Equal([other], await Builder.ColumnAsync<string>("SELECT id FROM api_keys"));
    }

    [Fact]
    public async Task DeletingAppSecretDeletesItsTokensAndTheirApiKeys()
    {
        var alice = await Builder.InsertIdAsync("users");
        var secret = await OAuth2SecretAsync();
        var kept = await OAuth2SecretAsync();
        await OAuth2TokenAsync(secret, await ApiKeyAsync(alice), alice);
        await OAuth2TokenAsync(secret, await ApiKeyAsync(alice), alice);
        var keptKey = await ApiKeyAsync(alice);
        await OAuth2TokenAsync(kept, keptKey, alice);

        await Builder.ExecuteAsync("DELETE FROM oauth2_provider_app_secrets WHERE id = @secret", ("secret", secret));

        Assert.Equal([keptKey], await Builder.ColumnAsync<string>("SELECT id FROM api_keys"));
        Assert.Equal([keptKey], await Builder.ColumnAsync<string>("SELECT api_key_id FROM oauth2_provider_app_tokens"));
    }

    [Fact]
    public async Task DeletingApiKeyCascadesToItsTokenWithoutError()
    {
        var alice = await Builder.InsertIdAsync("users");
        var key = await ApiKeyAsync(alice);
        await OAuth2TokenAsync(await OAuth2SecretAsync(), key, alice);

        Assert.Equal(1, await Builder.ExecuteAsync("DELETE FROM api_keys WHERE id = @key", ("key", key)));
        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM oauth2_provider_app_tokens"));
    }

    /// <summary>Every status change as "user status updated_at-in-UTC", sorted.</summary>
    private async Task<List<string?>> StatusChangesAsync() => await Builder.ColumnAsync<string>(
        "SELECT user_id || ' ' || new_status || ' ' || to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"+00\"') FROM user_status_changes ORDER BY 1");

    /// <summary>Inserts an API key of <paramref name="user"/> and returns its (text) id.</summary>
    private async Task<string> ApiKeyAsync(Guid user) => (await Builder.InsertAsync("api_keys", ("user_id", user)))["id"]!;

    private Task<Row> UserLinkAsync(Guid user, string login = "github") => Builder.InsertAsync("user_links", ("user_id", user), ("login_type", login));

    /// <summary>Inserts the secret of a new OAuth2 app and returns its id.</summary>
    private Task<Guid> OAuth2SecretAsync() => Builder.InsertIdAsync("oauth2_provider_app_secrets");

    /// <summary>Inserts a token issued under <paramref name="secret"/> as <paramref name="apiKey"/> and returns its id.</summary>
    private Task<Guid> OAuth2TokenAsync(Guid secret, string apiKey, Guid user) =>
        Builder.InsertIdAsync("oauth2_provider_app_tokens", ("app_secret_id", secret), ("api_key_id", apiKey), ("user_id", user));
}

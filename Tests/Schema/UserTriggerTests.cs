using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The user triggers of <see cref="M2026_02_16_0002_AddUserTriggers"/>: what a soft-deleted user
/// loses and may no longer get, the status and deletion history, and the API key behind an OAuth2
/// token (behavior.md 2.5 to 2.9).
/// </summary>
public sealed class UserTriggerTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
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
    public async Task SoftDeletedUserLosesOwnApiKeysAndLinksOnly()
    {
        var alice = await rows.UserAsync();
        var bob = await rows.UserAsync();
        await rows.ApiKeyAsync(alice);
        await rows.ApiKeyAsync(alice);
        var bobKey = await rows.ApiKeyAsync(bob);
        await rows.UserLinkAsync(alice, "github");
        await rows.UserLinkAsync(alice, "oidc");
        await rows.UserLinkAsync(bob, "github");
        await rows.ExecuteAsync("UPDATE users SET login_type = 'github' WHERE id = @alice", ("alice", alice));

        await rows.ExecuteAsync("UPDATE users SET deleted = true WHERE id = @alice", ("alice", alice));

        Assert.Equal([bobKey], await rows.ColumnAsync<string>("SELECT id FROM api_keys"));
        Assert.Equal([bob], await rows.ColumnAsync<Guid>("SELECT user_id FROM user_links"));
        Assert.Equal("github", await rows.ScalarAsync<string>("SELECT login_type::text FROM users WHERE id = @alice", ("alice", alice)));
    }

    [Fact]
    public async Task EveryUpdateOfDeletedUserRemovesKeysMovedOntoIt()
    {
        var alice = await rows.UserAsync(deleted: true);
        var bob = await rows.UserAsync();
        var key = await rows.ApiKeyAsync(bob);
        // Updates of api_keys are not checked, so a key can be moved onto a deleted user.
        await rows.ExecuteAsync("UPDATE api_keys SET user_id = @alice WHERE id = @key", ("alice", alice), ("key", key));
        Assert.Equal(1L, await rows.ScalarAsync<long>("SELECT count(*) FROM api_keys"));

        await rows.ExecuteAsync("UPDATE users SET name = 'still deleted' WHERE id = @alice", ("alice", alice));

        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task SoftDeletedUserLosesOAuth2TokensThroughTheirApiKeys()
    {
        var alice = await rows.UserAsync();
        var key = await rows.ApiKeyAsync(alice);
        await OAuth2TokenAsync(await OAuth2SecretAsync(), key, alice);

        await rows.ExecuteAsync("UPDATE users SET deleted = true WHERE id = @alice", ("alice", alice));

        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM oauth2_provider_app_tokens"));
    }

    [Fact]
    public async Task InsertRecordsInitialStatusAtUpdatedAt()
    {
        var id = Guid.NewGuid();

        await rows.ExecuteAsync("""
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at, status)
            VALUES (@id, 'a@example.com', 'a', '\x01', now(), '2024-01-02 03:04:05+00', 'active')
            """, ("id", id));

        Assert.Equal([$"{id} active 2024-01-02 03:04:05+00"], await StatusChangesAsync());
        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM user_deleted"));
    }

    [Fact]
    public async Task StatusChangeIsRecordedAndSameStatusIsNot()
    {
        var alice = await rows.UserAsync(status: "active");
        await rows.ExecuteAsync("DELETE FROM user_status_changes");

        await rows.ExecuteAsync("UPDATE users SET status = 'active', name = 'x' WHERE id = @alice", ("alice", alice));
        await rows.ExecuteAsync("UPDATE users SET status = 'suspended', updated_at = '2024-05-06 07:08:09+00' WHERE id = @alice", ("alice", alice));

        Assert.Equal([$"{alice} suspended 2024-05-06 07:08:09+00"], await StatusChangesAsync());
    }

    [Fact]
    public async Task SoftDeleteWithStatusChangeRecordsBothAtUpdatedAt()
    {
        var alice = await rows.UserAsync(status: "active");
        await rows.ExecuteAsync("DELETE FROM user_status_changes");

        await rows.ExecuteAsync(
            "UPDATE users SET deleted = true, status = 'dormant', updated_at = '2024-05-06 07:08:09+00' WHERE id = @alice", ("alice", alice));

        Assert.Equal([$"{alice} dormant 2024-05-06 07:08:09+00"], await StatusChangesAsync());
        Assert.Equal(
            [$"{alice} 2024-05-06 07:08:09+00"],
            await rows.ColumnAsync<string>("SELECT user_id || ' ' || to_char(deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"+00\"') FROM user_deleted"));
    }

    [Fact]
    public async Task OnlyTheFalseToTrueChangeRecordsDeletion()
    {
        var alice = await rows.UserAsync(deleted: true);
        var bob = await rows.UserAsync();
        await rows.ExecuteAsync("UPDATE users SET deleted = true WHERE id = @bob", ("bob", bob));

        // Inserted deleted, updated while deleted, undeleted: none of these is a deletion.
        await rows.ExecuteAsync("UPDATE users SET deleted = true, name = 'x' WHERE id IN (@alice, @bob)", ("alice", alice), ("bob", bob));
        await rows.ExecuteAsync("UPDATE users SET deleted = false WHERE id = @alice", ("alice", alice));

        Assert.Equal([bob], await rows.ColumnAsync<Guid>("SELECT user_id FROM user_deleted"));
        Assert.Equal(2L, await rows.ScalarAsync<long>("SELECT count(*) FROM user_status_changes"));
    }

    [Fact]
    public async Task HardDeleteOfUserWithHistoryIsForeignKeyViolation()
    {
        var alice = await rows.UserAsync();

        await Rejection.AssertAsync(() => rows.ExecuteAsync("DELETE FROM users WHERE id = @alice", ("alice", alice)),
            PostgresErrorCodes.ForeignKeyViolation, "user_status_changes_user_id_fkey", "user_status_changes");
    }

    [Fact]
    public async Task ApiKeyForDeletedUserIsRefused()
    {
        var alice = await rows.UserAsync(deleted: true);

        await Raised.AssertAsync(() => rows.ApiKeyAsync(alice), PostgresErrorCodes.RaiseException, "Cannot create API key for deleted user");
    }

    [Fact]
    public async Task ApiKeyForLiveUserIsAccepted()
    {
        var alice = await rows.UserAsync();

        var key = await rows.ApiKeyAsync(alice);

        Assert.Equal([key], await rows.ColumnAsync<string>("SELECT id FROM api_keys"));
    }

    [Fact]
    public async Task ApiKeyForUnknownUserIsForeignKeyViolation()
    {
        await Rejection.AssertAsync(() => rows.ApiKeyAsync(Guid.NewGuid()),
            PostgresErrorCodes.ForeignKeyViolation, "api_keys_user_id_uuid_fkey", "api_keys");
    }

    [Fact]
    public async Task UserLinkForDeletedUserIsRefused()
    {
        var alice = await rows.UserAsync(deleted: true);

        await Raised.AssertAsync(() => rows.UserLinkAsync(alice), PostgresErrorCodes.RaiseException, "Cannot create user_link for deleted user");
    }

    [Fact]
    public async Task MovingUserLinkOntoDeletedUserIsRefused()
    {
        var alice = await rows.UserAsync(deleted: true);
        var bob = await rows.UserAsync();
        await rows.UserLinkAsync(bob);

        await Raised.AssertAsync(() => rows.ExecuteAsync("UPDATE user_links SET user_id = @alice", ("alice", alice)),
            PostgresErrorCodes.RaiseException, "Cannot create user_link for deleted user");
    }

    [Fact]
    public async Task UpdatingLinkOfLiveUserIsAccepted()
    {
        var bob = await rows.UserAsync();
        await rows.UserLinkAsync(bob);

        Assert.Equal(1, await rows.ExecuteAsync("UPDATE user_links SET oauth_access_token = 'fresh' WHERE user_id = @bob", ("bob", bob)));
    }

    [Fact]
    public async Task DeletingTokenDeletesItsApiKeyOnly()
    {
        var alice = await rows.UserAsync();
        var key = await rows.ApiKeyAsync(alice);
        var other = await rows.ApiKeyAsync(alice);
        var token = await OAuth2TokenAsync(await OAuth2SecretAsync(), key, alice);

        await rows.ExecuteAsync("DELETE FROM oauth2_provider_app_tokens WHERE id = @token", ("token", token));

        Assert.Equal([other], await rows.ColumnAsync<string>("SELECT id FROM api_keys"));
    }

    [Fact]
    public async Task DeletingAppSecretDeletesItsTokensAndTheirApiKeys()
    {
        var alice = await rows.UserAsync();
        var secret = await OAuth2SecretAsync();
        var kept = await OAuth2SecretAsync();
        await OAuth2TokenAsync(secret, await rows.ApiKeyAsync(alice), alice);
        await OAuth2TokenAsync(secret, await rows.ApiKeyAsync(alice), alice);
        var keptKey = await rows.ApiKeyAsync(alice);
        await OAuth2TokenAsync(kept, keptKey, alice);

        await rows.ExecuteAsync("DELETE FROM oauth2_provider_app_secrets WHERE id = @secret", ("secret", secret));

        Assert.Equal([keptKey], await rows.ColumnAsync<string>("SELECT id FROM api_keys"));
        Assert.Equal([keptKey], await rows.ColumnAsync<string>("SELECT api_key_id FROM oauth2_provider_app_tokens"));
    }

    [Fact]
    public async Task DeletingApiKeyCascadesToItsTokenWithoutError()
    {
        var alice = await rows.UserAsync();
        var key = await rows.ApiKeyAsync(alice);
        await OAuth2TokenAsync(await OAuth2SecretAsync(), key, alice);

        Assert.Equal(1, await rows.ExecuteAsync("DELETE FROM api_keys WHERE id = @key", ("key", key)));
        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM oauth2_provider_app_tokens"));
    }

    /// <summary>Every status change as "user status updated_at-in-UTC", sorted.</summary>
    private async Task<List<string?>> StatusChangesAsync() => await rows.ColumnAsync<string>(
        "SELECT user_id || ' ' || new_status || ' ' || to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"+00\"') FROM user_status_changes ORDER BY 1");

    /// <summary>Inserts an OAuth2 app with one secret and returns the secret's id.</summary>
    private async Task<Guid> OAuth2SecretAsync()
    {
        var app = Guid.NewGuid();
        var secret = Guid.NewGuid();
        await rows.ExecuteAsync("""
            INSERT INTO oauth2_provider_apps (id, created_at, updated_at, name, icon, callback_url)
            VALUES (@app, now(), now(), @name, '', 'https://app.example.com/callback');
            INSERT INTO oauth2_provider_app_secrets (id, created_at, hashed_secret, display_secret, app_id, secret_prefix)
            VALUES (@secret, now(), '\x01', 'abc', @app, convert_to(@name, 'UTF8'))
            """, ("app", app), ("secret", secret), ("name", rows.Name("app")));
        return secret;
    }

    /// <summary>Inserts a token issued under <paramref name="secret"/> as <paramref name="apiKey"/> and returns its id.</summary>
    private async Task<Guid> OAuth2TokenAsync(Guid secret, string apiKey, Guid user)
    {
        var token = Guid.NewGuid();
        await rows.ExecuteAsync("""
            INSERT INTO oauth2_provider_app_tokens (id, created_at, expires_at, hash_prefix, refresh_hash, app_secret_id, api_key_id, user_id)
            VALUES (@token, now(), now() + interval '1 hour', convert_to(@key, 'UTF8'), '\x01', @secret, @key, @user)
            """, ("token", token), ("key", apiKey), ("secret", secret), ("user", user));
        return token;
    }
}

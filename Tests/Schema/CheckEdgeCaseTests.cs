using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The edge cases the spec lists as true of PostgreSQL: CHECKs pass on NULL, and a few rows that
/// look like violations are either accepted or rejected by something else.
/// </summary>
public sealed class CheckEdgeCaseTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private const string Agent = "INSERT INTO workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, architecture, operating_system, subsystems) VALUES (gen_random_uuid(), now(), now(), @name, @resource, gen_random_uuid(), 'amd64', 'linux', ";

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
    public async Task AllowListNotEmptyNeverRejectsBecauseEmptyArrayLengthIsNull()
    {
        // The constraint is there, with coderd's text...
        Assert.Equal("CHECK ((array_length(allow_list, 1) > 0))", await world.ScalarAsync<string>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'api_keys_allow_list_not_empty' AND conrelid = 'api_keys'::regclass"));

        // ...but array_length of an empty array is NULL, and a CHECK only rejects FALSE,
        Assert.True(await world.ScalarAsync<bool>("SELECT array_length('{}'::text[], 1) IS NULL"));
        Assert.Equal(1, await world.ExecuteAsync(World.ApiKeySql("'{}'")));
        Assert.Equal(1, await world.ExecuteAsync(World.ApiKeySql("'{*}'")));

        // ...and NULL, the only other candidate, is stopped by NOT NULL before the CHECK is reached.
        var error = await Assert.ThrowsAsync<PostgresException>(() => world.ExecuteAsync(World.ApiKeySql("NULL")));
        Assert.Equal((PostgresErrorCodes.NotNullViolation, "allow_list", (string?)null), (error.SqlState, error.ColumnName, error.ConstraintName));
        Assert.Equal(2L, await world.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task NullOrganizationIdPassesOrganizationIdNotZero()
    {
        // A site-wide role: organization_id <> zero is NULL, not FALSE.
        var inserted = await world.ExecuteAsync("INSERT INTO custom_roles (name, display_name, organization_id) VALUES ('site-auditor', 'Site auditor', NULL)");

        Assert.Equal(1, inserted);
    }

    [Fact]
    public async Task NullAndEmptySubsystemsPassSubsystemsNotNone()
    {
        var withNull = await world.ExecuteAsync(Agent + "NULL)", ("name", "a"));
        var withEmpty = await world.ExecuteAsync(Agent + "'{}')", ("name", "b"));

        Assert.Equal((1, 1), (withNull, withEmpty));
        Assert.Equal(2L, await world.ScalarAsync<long>("SELECT count(*) FROM workspace_agents WHERE subsystems IS NULL OR subsystems = '{}'"));
    }

    [Fact]
    public async Task InsertWithoutUsernameFailsUsernameMinLength()
    {
        // username defaults to '', which the CHECK then rejects.
        await Rejection.AssertAsync(
            () => world.ExecuteAsync("INSERT INTO users (id, email, hashed_password, created_at, updated_at) VALUES (gen_random_uuid(), 'anon@example.com', '\\x00', now(), now())"),
            PostgresErrorCodes.CheckViolation, "users_username_min_length", "users");
    }

    [Fact]
    public async Task SecondUsageLimitConfigRowIsUniqueViolationOfSingletonKeyNotSingletonCheck()
    {
        Assert.Equal(1L, await world.ScalarAsync<long>("SELECT count(*) FROM chat_usage_limit_config WHERE singleton"));

        await Rejection.AssertAsync(
            () => world.ExecuteAsync("INSERT INTO chat_usage_limit_config DEFAULT VALUES"),
            PostgresErrorCodes.UniqueViolation, "chat_usage_limit_config_singleton_key", "chat_usage_limit_config");
    }

    [Fact]
    public async Task ZeroDeadlineAndZeroMaxDeadlinePassDeadlineCheck()
    {
        // Both columns default to the zero time: "no deadline, no maximum".
        var inserted = await world.ExecuteAsync("""
            INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id)
            VALUES (gen_random_uuid(), now(), now(), @workspace, @version, 1, 'start', @owner, @job)
            """);

        Assert.Equal(1, inserted);
        Assert.True(await world.ScalarAsync<bool>(
            "SELECT deadline = '0001-01-01 00:00:00+00' AND max_deadline = '0001-01-01 00:00:00+00' FROM workspace_builds"));
    }
}

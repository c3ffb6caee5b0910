using Coderd.Database.Migrations;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// Fresh databases on the run's server for the CLI tests, one per test: empty, or a copy of a
/// template that <c>coderd-db up</c> migrated once per run (copying is much faster than migrating).
/// </summary>
internal static class CliDatabases
{
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _template;

    /// <summary>The versions of this build, oldest first.</summary>
    public static readonly IReadOnlyList<long> Versions =
        MigrationInfo.All.Select(m => m.Version).ToList();

    /// <summary>The versions up to and including <paramref name="version"/>, oldest first.</summary>
    public static IEnumerable<long> VersionsUpTo(long version) => Versions.Where(v => v <= version);

    public static Task<string> CreateEmptyAsync(PostgresFixture fixture) =>
        fixture.Server.CreateDatabaseAsync("cli", cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>A new database migrated up to and including <paramref name="version"/> (in process: the tests' setup, not their subject).</summary>
    public static async Task<string> CreateMigratedToAsync(PostgresFixture fixture, long version)
    {
        var database = await CreateEmptyAsync(fixture);
        await new SchemaMigrator(new MigratorOptions { ConnectionString = database }).UpAsync(version, TestContext.Current.CancellationToken);
        return database;
    }

    public static async Task<string> CreateMigratedAsync(PostgresFixture fixture)
    {
        var template = await TemplateAsync(fixture);
        return await fixture.Server.CreateDatabaseAsync("cli", template, TestContext.Current.CancellationToken);
    }

    private static async Task<string> TemplateAsync(PostgresFixture fixture)
    {
        await TemplateGate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_template is null)
            {
                var connection = await CreateEmptyAsync(fixture);
                var run = await CoderdDb.RunAsync("up", "--connection", connection);
                if (run.ExitCode != 0) throw new InvalidOperationException($"Migrating the template failed: {run}");
                _template = Database(connection);
            }

            return _template;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    public static string Database(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    public static string Password(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Password!;

    /// <summary>An unpooled connection: the tests count sessions in pg_stat_activity, and pooled idle ones would blur that.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, string? applicationName = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        if (applicationName is not null) builder.ApplicationName = applicationName;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    public static Task<T?> ScalarAsync<T>(string connectionString, string sql) =>
        Sql.ScalarAsync<T>(connectionString, sql, TestContext.Current.CancellationToken);

    public static Task ExecuteAsync(string connectionString, string sql) =>
        Sql.ExecuteAsync(connectionString, sql, TestContext.Current.CancellationToken);

    /// <summary>Every row of schema_version as version → how often it is recorded; empty when the table does not exist.</summary>
    public static async Task<Dictionary<long, long>> RecordedVersionsAsync(string connectionString)
    {
        await using var connection = await OpenAsync(connectionString);
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{SchemaMigrator.VersionTable}') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(TestContext.Current.CancellationToken))!) return [];
        await using var command = new NpgsqlCommand($"SELECT version, count(*) FROM {SchemaMigrator.VersionTable} GROUP BY version", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var versions = new Dictionary<long, long>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) versions[reader.GetInt64(0)] = reader.GetInt64(1);
        return versions;
    }

    /// <summary>
    /// A session that holds ACCESS SHARE on <c>chats</c> in an open transaction, as a long report
    /// would: an ALTER of chats queues behind it until it commits (run <c>COMMIT</c> on it) or closes.
    /// </summary>
    public static async Task<NpgsqlConnection> HoldLockOnChatsAsync(string connectionString, string applicationName)
    {
        var session = await OpenAsync(connectionString, applicationName);
        await Sql.ExecuteAsync(session, "BEGIN; LOCK TABLE chats IN ACCESS SHARE MODE", TestContext.Current.CancellationToken);
        return session;
    }

    /// <summary>How many sessions wait for a lock on <c>chats</c>.</summary>
    public static Task<long> WaitingOnChatsAsync(string connectionString) =>
        ScalarAsync<long>(connectionString, "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'chats'::regclass");

    /// <summary>How many advisory locks (the migration lock) are held in the database.</summary>
    public static Task<long> AdvisoryLocksAsync(string connectionString) =>
        ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");

    public static async Task<bool> TableExistsAsync(string connectionString, string table) =>
        await ScalarAsync<bool>(connectionString, $"SELECT to_regclass('{table}') IS NOT NULL");


    /// <summary>Polls until <paramref name="condition"/> holds, failing after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}

using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Coderd.Database.Tests;
using Coderd.Database.Tests.Support;
using Npgsql;
using Respawn;
using Respawn.Graph;

[assembly: AssemblyFixture(typeof(PostgresFixture))]

namespace Coderd.Database.Tests;

/// <summary>
/// One PostgreSQL server per test run (see <see cref="ScratchServer"/> for which one), one database
/// migrated once to the latest version and kept as a template, and cheap copies of it.
/// </summary>
/// <remarks>
/// Isolation, coder's dbtestutil way: test classes run in parallel, so each class that writes rows
/// takes a <see cref="MigratedDatabase"/> (a <c>CREATE DATABASE ... TEMPLATE</c> copy of the migrated
/// template, a few hundred milliseconds) and resets it with <see cref="ResetAsync"/> (Respawn) before
/// each of its tests. Tests that migrate up and down take an empty database from
/// <see cref="CreateEmptyDatabaseAsync"/>. Nobody ever connects to the template: PostgreSQL copies a
/// database only while no session is connected to it.
/// </remarks>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>
    /// The one row the migrations insert into <c>chat_usage_limit_config</c>, with the id the
    /// migration's insert got from the fresh sequence.
    /// </summary>
    private const string SeedSql = "INSERT INTO chat_usage_limit_config (id, singleton) VALUES (1, true)";

    private ScratchServer? _server;
    private string? _templateName;
    private string? _connectionString;
    private Respawner? _respawner;

    /// <summary>
    /// Connection string of the run's shared database, migrated to the latest version; contains the
    /// password. Every class can see every other class's rows here: to write rows, take a
    /// <see cref="MigratedDatabase"/> instead.
    /// </summary>
    public string ConnectionString => _connectionString ?? throw NotStarted();

    /// <summary>The run's server, for tests that need databases of their own.</summary>
    internal ScratchServer Server => _server ?? throw NotStarted();

    /// <summary>
    /// Skips the calling test unless <see cref="ScratchServer.DumpAsync"/> can dump this server: the
    /// <c>pg_dump</c> of the server's own major is what writes <c>schema-dump.sql</c>, and a Debian
    /// host has only one major's client programs. Everything else runs on every major.
    /// </summary>
    internal void SkipUnlessPgDump() =>
        Assert.SkipUnless(Server.CanDump,
            $"Needs pg_dump {Server.MajorVersion}, the server's major, which is not installed here (the schema dump is made by the server's own major; install postgresql-client-{Server.MajorVersion} to run this).");

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        _server = await ScratchServer.StartAsync(Console.Out, cancellationToken);

        // The migrator's sessions are not pooled, so none is left connected to the template.
        var template = await _server.CreateDatabaseAsync("coderd_template", cancellationToken: cancellationToken);
        _templateName = ConnectionStrings.Parse(template).Database!;
        await new SchemaMigrator(new MigratorOptions { ConnectionString = template }).UpAsync(cancellationToken: cancellationToken);

        _connectionString = await CreateMigratedDatabaseAsync("coderd_test", cancellationToken);

        // Every copy has the same tables, so one Respawner (one catalog read) serves them all.
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        _respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            TablesToIgnore = [new Table("public", SchemaMigrator.VersionTable)],
            // DELETE in foreign key order instead of Respawn's TRUNCATE: on tables of a few rows it
            // is several times faster, and it takes no ACCESS EXCLUSIVE lock.
            FormatDeleteStatement = table => $"DELETE FROM \"{table.Schema}\".\"{table.Name}\";",
        });
    }

    /// <summary>Creates a copy of the migrated template and returns its connection string.</summary>
    /// <param name="namePrefix">Start of the database name (a-z, 0-9, _), to tell databases apart in server logs.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public Task<string> CreateMigratedDatabaseAsync(string namePrefix, CancellationToken cancellationToken = default) =>
        Server.CreateDatabaseAsync(namePrefix, _templateName ?? throw NotStarted(), cancellationToken);

    /// <summary>Creates an empty database (no version table either), for tests that run migrations themselves.</summary>
    public Task<string> CreateEmptyDatabaseAsync(string namePrefix, CancellationToken cancellationToken = default) =>
        Server.CreateDatabaseAsync(namePrefix, cancellationToken: cancellationToken);

    /// <summary>Drops a database made by this fixture, disconnecting anyone still connected.</summary>
    public Task DropDatabaseAsync(string databaseConnectionString) =>
        Server.DropDatabaseAsync(ConnectionStrings.Parse(databaseConnectionString).Database!);

    /// <summary>
    /// Brings a migrated database back to the state right after migrating: deletes every row except
    /// the version table's and re-inserts the <c>chat_usage_limit_config</c> singleton.
    /// </summary>
    public async Task ResetAsync(string databaseConnectionString, CancellationToken cancellationToken = default)
    {
        var reset = _respawner ?? throw NotStarted();
        await using var connection = new NpgsqlConnection(databaseConnectionString);
        await connection.OpenAsync(cancellationToken);
        await reset.ResetAsync(connection);
        await using var seed = new NpgsqlCommand(SeedSql, connection);
        await seed.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            // Dropping first matters for a TEST_DATABASE_URL server, which outlives the run.
            if (_connectionString is not null) await DropDatabaseAsync(_connectionString);
            if (_templateName is not null) await _server.DropDatabaseAsync(_templateName);
            await _server.DisposeAsync();
        }
    }

    private static InvalidOperationException NotStarted() =>
        new("PostgresFixture is used before xunit initialized it; take it as a constructor parameter.");
}

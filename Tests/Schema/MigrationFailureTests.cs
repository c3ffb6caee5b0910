using Coderd.Database.Migrations;
using FluentMigrator;
using Npgsql;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// A test-only migration after every real one: it creates a table and then fails. Only the test
/// below passes this assembly to the runner (<see cref="MigratorOptions.Assemblies"/>).
/// </summary>
[Migration(2099_01_01_0001, "Test only: create failing_probe, then fail")]
internal sealed class M2099_01_01_0001_CreateThenFail : SchemaMigration
{
    public const string Table = "failing_probe";

    public override void Up()
    {
        Create.Table(Table).WithColumn("id").AsInt32().NotNullable().PrimaryKey("failing_probe_pkey");
        Execute.Sql("SELECT 1 / 0");
    }

    public override void Down() => Delete.Table(Table);
}

/// <summary>A migration that fails halfway, run in process: nothing of it survives, and what ran before it stays.</summary>
public sealed class MigrationFailureTests(PostgresFixture postgres) : IAsyncDisposable
{
    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task MigrationFailingHalfwayIsRolledBackAndEarlierOnesStay()
    {
        // Given an empty database and a build whose newest migration creates a table and then fails
        var (connectionString, migrator) = await _databases.CreateAsync();
        var withFailing = new SchemaMigrator(new MigratorOptions
        {
            ConnectionString = connectionString,
            Assemblies = [typeof(SchemaMigrator).Assembly, typeof(M2099_01_01_0001_CreateThenFail).Assembly],
        });

        // When it migrates
        var error = await Assert.ThrowsAsync<MigrationException>(() => withFailing.UpAsync(cancellationToken: Token));

        // Then the error names the migration and the server's error in one line
        Assert.Equal(MigrationError.MigrationFailed, error.Error);
        Assert.Contains("209901010001", error.Message, StringComparison.Ordinal);
        Assert.Contains(PostgresErrorCodes.DivisionByZero, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(PostgresErrorCodes.DivisionByZero, Assert.IsType<PostgresException>(error.InnerException).SqlState);

        // And every real migration stays applied, while nothing of the failed one exists
        var status = await migrator.StatusAsync(Token);
        Assert.Equal(MigrationInfo.All.Select(m => m.Version), status.Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version));
        await using var connection = await OpenAsync(connectionString);
        Assert.Equal(["false"], await ListAsync(connection, $"SELECT (to_regclass('{M2099_01_01_0001_CreateThenFail.Table}') IS NOT NULL)::text"));

        // And once the broken migration is gone, up finds nothing left to do
        Assert.Empty(await migrator.UpAsync(cancellationToken: Token));
    }
}

using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// A database of its own, migrated to the latest version, for the constraint tests: the drift
/// tests read its catalog, the classification tests write rows in transactions they roll back.
/// </summary>
public sealed class MigratedDatabase(PostgresFixture postgres) : IAsyncLifetime
{
    private string? connectionString;

    /// <summary>Connection string of the migrated database; contains the password.</summary>
    public string ConnectionString => connectionString ?? throw new InvalidOperationException("MigratedDatabase is used before xunit initialized it.");

    internal ScratchServer Server => postgres.Server;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        connectionString = await postgres.Server.CreateDatabaseAsync("coderd_constraints", cancellationToken: TestContext.Current.CancellationToken);
        await new SchemaMigrator(new MigratorOptions { ConnectionString = connectionString })
            .UpAsync(cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (connectionString is not null)
        {
            await postgres.Server.DropDatabaseAsync(new NpgsqlConnectionStringBuilder(connectionString).Database!);
        }
    }

    /// <summary>An open connection to the database.</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }
}

/// <summary>The test classes that share one <see cref="MigratedDatabase"/>; they run one after another.</summary>
[CollectionDefinition(nameof(MigratedDatabaseCollection))]
public sealed class MigratedDatabaseCollection : ICollectionFixture<MigratedDatabase>;

using Coderd.Database.Server;
using Coderd.Database.Tests;

[assembly: AssemblyFixture(typeof(PostgresFixture))]

namespace Coderd.Database.Tests;

/// <summary>
/// One PostgreSQL server per test run (see <see cref="ScratchServer"/> for which one) and one fresh
/// database on it for the run.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private ScratchServer? server;
    private string? connectionString;

    /// <summary>Connection string of the run's database; contains the password.</summary>
    public string ConnectionString => connectionString ?? throw NotStarted();

    /// <summary>The run's server, for tests that need databases of their own.</summary>
    internal ScratchServer Server => server ?? throw NotStarted();

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        server = await ScratchServer.StartAsync(Console.Out, TestContext.Current.CancellationToken);
        connectionString = await server.CreateDatabaseAsync("coderd_test", cancellationToken: TestContext.Current.CancellationToken);
        await PrepareDatabaseAsync(connectionString, TestContext.Current.CancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            // Dropping first matters for a TEST_DATABASE_URL server, which outlives the run.
            if (connectionString is not null)
            {
                await server.DropDatabaseAsync(ConnectionStrings.Parse(connectionString).Database!);
            }

            await server.DisposeAsync();
        }
    }

    // The single place that brings the run's database to the schema under test. There are no
    // migrations yet, so the database is left empty; applying them and creating the Respawn
    // checkpoint belongs here.
    private static Task PrepareDatabaseAsync(string databaseConnectionString, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }

    private static InvalidOperationException NotStarted() =>
        new("PostgresFixture is used before xunit initialized it; take it as a constructor parameter.");
}

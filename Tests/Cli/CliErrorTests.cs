using Coderd.Database.Migrations;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// Failures that need a real server: each has its exit code and one line that names no password.
/// Bad input and unreachable servers are the unit tests' (Coderd.Database.UnitTests, CliUsageTests).
/// </summary>
public sealed class CliErrorTests(PostgresFixture fixture)
{
    private const string Secret = "s3cret-Pa55word";

    [Fact]
    public async Task WrongPasswordExits3()
    {
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        var wrong = new NpgsqlConnectionStringBuilder(database) { Password = Secret }.ConnectionString;

        var run = await CoderdDb.RunAsync("up", "--connection", wrong);

        run.AssertOneLineFailure(3, Secret, CliDatabases.Password(database));
        Assert.Contains("28P01", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseAheadOfTheBuildExits5()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "INSERT INTO schema_version (version, description) VALUES (209912310001, 'from a newer build')");

        var run = await CoderdDb.RunAsync("up", "--connection", database);

        run.AssertOneLineFailure(5, CliDatabases.Password(database));
        Assert.Contains("209912310001", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockHeldLongerThanLockWaitExits4()
    {
        // Given another migrator's session holding the migration lock
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await using var holder = await CliDatabases.OpenAsync(database, applicationName: "other-migrator");
        await Sql.ExecuteAsync(holder, $"SELECT pg_advisory_lock({SchemaMigrator.LockKey})", TestContext.Current.CancellationToken);

        // When up may wait one second for it
        var run = await CoderdDb.RunAsync("up", "--connection", database, "--lock-wait", "1");

        // Then it gives up, names the holder, and created nothing
        run.AssertOneLineFailure(4, CliDatabases.Password(database));
        Assert.Contains($"pid {holder.ProcessID} (other-migrator", run.Stderr, StringComparison.Ordinal);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(15), run.ToString());
        Assert.False(await CliDatabases.TableExistsAsync(database, SchemaMigrator.VersionTable));
    }
}

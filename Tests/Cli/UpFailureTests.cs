namespace Coderd.Database.Tests.Cli;

public sealed class UpFailureTests(PostgresFixture fixture)
{
    private const string ProbeTable = "failing_probe";
    private const long FailingVersion = 2099_01_01_0001;

    [Fact]
    public async Task MigrationFailingHalfwayIsRolledBackAndExits1()
    {
        // Given an empty database and a build whose newest migration creates a table and then fails
        var database = await CliDatabases.CreateEmptyAsync(fixture);

        // When it is migrated
        var failed = await CoderdDb.RunAsync("up", "--connection", database, "--extra-migrations", CoderdDb.FailingMigrationsPath);

        // Then the migrations before it stay, nothing of it exists, and the one-line error names it
        Assert.True(failed.ExitCode == 1, failed.ToString());
        var error = Assert.Single(failed.ErrorLines);
        Assert.Contains(FailingVersion.ToString(), error, StringComparison.Ordinal);
        Assert.Contains("22012", error, StringComparison.Ordinal);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database)).Keys.Order());
        Assert.False(await CliDatabases.TableExistsAsync(database, ProbeTable));
        Assert.DoesNotContain(CliDatabases.Password(database), failed.Output, StringComparison.Ordinal);

        // And once the broken migration is gone, up finds nothing left to do
        var fixedRun = await CoderdDb.RunAsync("up", "--connection", database);
        Assert.True(fixedRun.ExitCode == 0, fixedRun.ToString());
        Assert.Contains("up to date", fixedRun.Stdout, StringComparison.Ordinal);
    }
}

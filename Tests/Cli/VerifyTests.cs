using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

/// <summary>The expected schema: a dump of a database <c>up</c> migrated, made once for the class.</summary>
public sealed class ExpectedSchemaFixture(PostgresFixture fixture) : IAsyncLifetime
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"coderd-db-verify-{Guid.NewGuid():N}.sql");

    public async ValueTask InitializeAsync()
    {
        var reference = await CliDatabases.CreateMigratedAsync(fixture);
        await File.WriteAllTextAsync(Path, await CliDatabases.DumpAsync(fixture, reference), TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        File.Delete(Path);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// verify against a dump this test makes from a database <c>up</c> migrated; the committed
/// schema-dump.sql is the generator's to check.
/// </summary>
public sealed class VerifyTests(PostgresFixture fixture, ExpectedSchemaFixture expected) : IClassFixture<ExpectedSchemaFixture>
{
    private readonly string _expected = expected.Path;

    [Fact]
    public async Task MigratedDatabaseVerifies()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", _expected);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("matches", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseBehindExits5()
    {
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", _expected);

        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Contains("behind", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseAheadExits5()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "INSERT INTO schema_version (version, description) VALUES (209912310001, 'from a newer build')");

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", _expected);

        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Contains("ahead", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandChangedSchemaExits5AndShowsTheDifference()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "ALTER TABLE chats ADD COLUMN added_by_hand integer");

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", _expected);

        Assert.True(run.ExitCode == 5, run.ToString());
        var error = Assert.Single(run.ErrorLines);
        Assert.Contains("drifted", error, StringComparison.Ordinal);
        Assert.Contains("added_by_hand", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingSchemaDumpExits2()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", _expected + ".missing");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--schema-dump", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }
}

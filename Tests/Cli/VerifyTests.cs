using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// verify compares the database's catalog snapshot with the one this build embeds (made by the
/// generator), so it needs no client tools on any PostgreSQL major: on a server whose major has no
/// pg_dump here (13, 14, 16, 17 and 18 on Debian's 15), these tests show that it needs none.
/// Only <c>--schema-dump</c> runs the pg_dump of the server's major.
/// </summary>
public sealed class VerifyTests(PostgresFixture fixture)
{
    private const string Index = "CREATE INDEX idx_mcp_server_configs_enabled ON mcp_server_configs USING btree (enabled) WHERE (enabled = true)";

    [Fact]
    public async Task MigratedDatabaseVerifies()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var run = await CoderdDb.RunAsync("verify", "--connection", database);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("matches", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DroppedIndexAndChangedDefaultExit5AndAreListedOnePerLine()
    {
        // Given a migrated database that someone changed by hand
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, """
            DROP INDEX idx_mcp_server_configs_enabled;
            ALTER TABLE mcp_server_configs ALTER COLUMN enabled SET DEFAULT true;
            """);

        // When it is verified
        var run = await CoderdDb.RunAsync("verify", "--connection", database);

        // Then verify fails as a mismatch and prints each difference: object, expected, found
        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Equal(
            [
                "table mcp_server_configs / column enabled / default: expected false, found true",
                $"table mcp_server_configs / index idx_mcp_server_configs_enabled: expected {Index}, found (none)",
            ],
            run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var error = Assert.Single(run.ErrorLines);
        Assert.Contains("drifted", error, StringComparison.Ordinal);
        Assert.Contains("2 difference(s)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddedColumnExits5AndIsListed()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "ALTER TABLE chats ADD COLUMN added_by_hand integer");

        var run = await CoderdDb.RunAsync("verify", "--connection", database);

        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Equal("table chats / column added_by_hand: expected (none), found integer", run.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task DatabaseBehindExits5()
    {
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);

        var run = await CoderdDb.RunAsync("verify", "--connection", database);

        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Contains("behind", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseAheadExits5()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "INSERT INTO schema_version (version, description) VALUES (209912310001, 'from a newer build')");

        var run = await CoderdDb.RunAsync("verify", "--connection", database);

        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Contains("ahead", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchemaDumpOptionAlsoComparesAPgDumpWithTheFile()
    {
        var major = fixture.Server.MajorVersion;
        Assert.SkipUnless(PostgresBinaries.Find(major).TryGet("pg_dump", out _),
            $"--schema-dump runs pg_dump {major}, the server's major, which is not installed here; SchemaDumpOptionWithoutThePgDumpOfTheServersMajorExits2 covers that.");
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", Path.Combine(RepositoryRoot.Path, SchemaDump.FileName));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"matches this build and {Path.Combine(RepositoryRoot.Path, SchemaDump.FileName)}", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchemaDumpOptionWithoutThePgDumpOfTheServersMajorExits2()
    {
        var major = fixture.Server.MajorVersion;
        Assert.SkipWhen(PostgresBinaries.Find(major).TryGet("pg_dump", out _),
            $"pg_dump {major}, the server's major, is installed here; SchemaDumpOptionAlsoComparesAPgDumpWithTheFile covers --schema-dump with it.");
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", Path.Combine(RepositoryRoot.Path, SchemaDump.FileName));

        run.AssertOneLineFailure(2);
        Assert.Contains("needs the pg_dump of the server's major", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingSchemaDumpExits2()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var run = await CoderdDb.RunAsync("verify", "--connection", database, "--schema-dump", Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.sql"));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--schema-dump", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }
}

using Coderd.Database.Cli;
using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Npgsql;
using CoderdDb = Coderd.Database.Cli.Program;

namespace Coderd.Database.UnitTests.Cli;

/// <summary>
/// Bad input, unreachable servers and database-free verbs, run in process: each failure has its
/// exit code and one line that names no password. No PostgreSQL is needed: the only server named is
/// a closed port on 127.0.0.1, so reaching the point of connecting shows as exit 3.
/// </summary>
public sealed class CliUsageTests
{
    private const string Secret = "s3cret-Pa55word";

    // A port nothing listens on: connecting is refused at once.
    private static readonly string Unreachable = $"postgres://coder:{Secret}@127.0.0.1:{LocalCluster.FreeLoopbackPort()}/coder";

    [Theory]
    [InlineData("Host=127.0.0.1;Password=" + Secret + ";Bogus Keyword=1")]
    [InlineData("Host=127.0.0.1;Port=notaport;Password=" + Secret)]
    [InlineData("postgres://coder:" + Secret + "@127.0.0.1:99999/coder")]
    [InlineData("mysql://coder:" + Secret + "@127.0.0.1/coder")]
    public async Task MalformedConnectionStringExits2(string connection)
    {
        var run = await InProcess.RunAsync("up", "--connection", connection);

        run.AssertOneLineFailure(Exit.Usage, Secret);
        Assert.Contains("--connection", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedDatabaseUrlExits2()
    {
        var run = await InProcess.RunAsync(["status"], new Dictionary<string, string?> { [Target.UrlVariable] = $"postgres://coder:{Secret}@127.0.0.1:notaport/x" });

        run.AssertOneLineFailure(Exit.Usage, Secret);
        Assert.Contains(Target.UrlVariable, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionStringWithoutTheOptionNameIsNotEchoed()
    {
        var run = await InProcess.RunAsync("up", $"postgres://coder:{Secret}@127.0.0.1/coder");

        run.AssertOneLineFailure(Exit.Usage, Secret);
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedPortExits3()
    {
        var run = await InProcess.RunAsync("up", "--connection", Unreachable);

        run.AssertOneLineFailure(Exit.Connection, Secret);
        Assert.Contains("Cannot connect", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up", "--to", "202001010001")]
    [InlineData("down", "--to", "202001010001")]
    [InlineData("script", "--from", "202001010001")]
    [InlineData("up", "--to", "2020_01_01_0001")]
    public async Task UnknownVersionExits2BeforeConnecting(string verb, string option, string version)
    {
        var run = await InProcess.RunAsync(verb, option, version, "--connection", Unreachable);

        run.AssertOneLineFailure(Exit.Usage, Secret);
        Assert.Contains(version.Replace("_", "", StringComparison.Ordinal), run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026__03_19_0001")]
    [InlineData("_202603190001")]
    [InlineData("-1")]
    [InlineData("latest")]
    public async Task MalformedVersionExits2(string version)
    {
        var run = await InProcess.RunAsync("script", "--from", "0", "--to", version);

        run.AssertOneLineFailure(Exit.Usage);
        Assert.Contains("--to", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownWithoutToExits2()
    {
        var run = await InProcess.RunAsync("down");

        run.AssertOneLineFailure(Exit.Usage);
        Assert.Contains("--to", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up", "--no-such-option")]
    [InlineData("migrate")]
    [InlineData("gen")]
    [InlineData("up", "--extra-migrations", "x.dll")]
    [InlineData("up", "--lock-timeout", "0")]
    [InlineData("up", "--lock-timeout", "0.0001")]
    [InlineData("up", "--statement-timeout", "0.0004")]
    [InlineData("up", "--lock-retry-budget", "-1")]
    [InlineData("up", "--lock-retries", "3")]
    [InlineData("up", "--lock-wait", "soon")]
    public async Task BadUsageExits2WithOneLineInsteadOfHelp(params string[] arguments)
    {
        var run = await InProcess.RunAsync(arguments);

        run.AssertOneLineFailure(Exit.Usage);
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task ScriptFromZeroNeedsNoDatabase()
    {
        // The embedded database's folder is named, and must stay absent: nothing is started.
        var folder = Path.Combine(Path.GetTempPath(), "coderd-db-untouched-" + Guid.NewGuid().ToString("N"));

        var run = await InProcess.RunAsync(["script", "--from", "0"], new Dictionary<string, string?> { [Target.DataVariable] = folder });

        Assert.True(run.ExitCode == Exit.Success, run.ToString());
        Assert.False(Directory.Exists(folder), "script --from 0 started the embedded database.");
        // One transaction that creates the version table, then one per migration.
        Assert.Equal(MigrationInfo.All.Count + 1, run.Stdout.Split('\n').Count(line => line == "BEGIN;"));
        Assert.Empty(run.ErrorLines);
    }

    [Fact]
    public async Task VersionsAreAcceptedAsTheReadmePrintsThemOrAsPlainDigits()
    {
        var (first, last) = (MigrationInfo.All[0].Version, MigrationInfo.All[^1].Version);
        static string Underscored(long version) => $"{version / 100000000:0000}_{version / 1000000 % 100:00}_{version / 10000 % 100:00}_{version % 10000:0000}";

        var digits = await InProcess.RunAsync("script", "--from", first.ToString(), "--to", last.ToString());
        var underscores = await InProcess.RunAsync("script", "--from", Underscored(first), "--to", Underscored(last));

        Assert.True(digits.ExitCode == Exit.Success, digits.ToString());
        Assert.Equal(digits.Stdout, underscores.Stdout);
        Assert.Contains($"-- {last}:", underscores.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain($"-- {first}:", underscores.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MigrationError.MigrationFailed, Exit.Failed)]
    [InlineData(MigrationError.ConnectionFailed, Exit.Connection)]
    [InlineData(MigrationError.LockWaitTimeout, Exit.LockWait)]
    [InlineData(MigrationError.DatabaseAhead, Exit.Mismatch)]
    [InlineData(MigrationError.OutOfOrder, Exit.Mismatch)]
    [InlineData(MigrationError.UnknownVersion, Exit.Usage)]
    public void EveryMigrationErrorHasItsExitCodeAndKeepsItsMessage(MigrationError error, int exitCode)
    {
        Assert.Equal((exitCode, "what happened; what to do"), CoderdDb.Classify(new MigrationException(error, "what happened; what to do")));
    }

    [Fact]
    public void ServerRefusalIsExit1WithoutTheRowDetail()
    {
        var refusal = new PostgresException("permission denied for schema public", "ERROR", "ERROR", PostgresErrorCodes.InsufficientPrivilege, detail: "Failing row contains (" + Secret + ").");

        var (code, message) = CoderdDb.Classify(refusal);

        Assert.Equal(Exit.Failed, code);
        Assert.Contains(PostgresErrorCodes.InsufficientPrivilege, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, message, StringComparison.Ordinal);
    }
}

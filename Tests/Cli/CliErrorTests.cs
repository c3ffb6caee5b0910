using System.Net;
using System.Net.Sockets;
using Coderd.Database.Migrations;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>Bad input and unusable databases: each has its exit code and one line that names no password.</summary>
public sealed class CliErrorTests(PostgresFixture fixture)
{
    private const string Secret = "s3cret-Pa55word";

    [Theory]
    [InlineData("Host=127.0.0.1;Password=" + Secret + ";Bogus Keyword=1")]
    [InlineData("Host=127.0.0.1;Port=notaport;Password=" + Secret)]
    [InlineData("postgres://coder:" + Secret + "@127.0.0.1:99999/coder")]
    [InlineData("mysql://coder:" + Secret + "@127.0.0.1/coder")]
    public async Task MalformedConnectionStringExits2(string connection)
    {
        var run = await CoderdDb.RunAsync("up", "--connection", connection);

        AssertOneLineFailure(run, 2);
        Assert.Contains("--connection", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedDatabaseUrlExits2()
    {
        var run = await CoderdDb.RunAsync(["status"], new Dictionary<string, string?> { ["DATABASE_URL"] = $"postgres://coder:{Secret}@127.0.0.1:notaport/x" });

        AssertOneLineFailure(run, 2);
        Assert.Contains("DATABASE_URL", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionStringWithoutTheOptionNameIsNotEchoed()
    {
        var run = await CoderdDb.RunAsync("up", $"postgres://coder:{Secret}@127.0.0.1/coder");

        AssertOneLineFailure(run, 2);
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedPortExits3WithinTheConnectTimeout()
    {
        var run = await CoderdDb.RunAsync("up", "--connection", $"postgres://coder:{Secret}@127.0.0.1:{ClosedPort()}/coder");

        AssertOneLineFailure(run, 3);
        Assert.Contains("Cannot connect", run.Stderr, StringComparison.Ordinal);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(10), run.ToString());
    }

    [Fact]
    public async Task WrongPasswordExits3()
    {
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        var wrong = new NpgsqlConnectionStringBuilder(database) { Password = Secret }.ConnectionString;

        var run = await CoderdDb.RunAsync("up", "--connection", wrong);

        AssertOneLineFailure(run, 3);
        Assert.Contains("28P01", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(CliDatabases.Password(database), run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up", "--to", "202001010001")]
    [InlineData("down", "--to", "202001010001")]
    [InlineData("script", "--from", "202001010001")]
    public async Task UnknownVersionExits2(string verb, string option, string version)
    {
        var database = await CliDatabases.CreateEmptyAsync(fixture);

        var run = await CoderdDb.RunAsync(verb, option, version, "--connection", database);

        AssertOneLineFailure(run, 2, CliDatabases.Password(database));
        Assert.Contains(version, run.Stderr, StringComparison.Ordinal);
        Assert.Empty(await CliDatabases.RecordedVersionsAsync(database));
    }

    [Fact]
    public async Task DownWithoutToExits2()
    {
        var run = await CoderdDb.RunAsync("down");

        AssertOneLineFailure(run, 2);
        Assert.Contains("--to", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up", "--no-such-option")]
    [InlineData("migrate")]
    [InlineData("up", "--lock-timeout", "0")]
    [InlineData("up", "--lock-timeout", "0.0001")]
    [InlineData("up", "--statement-timeout", "0.0004")]
    [InlineData("up", "--lock-retry-budget", "-1")]
    [InlineData("up", "--lock-retries", "3")]
    [InlineData("up", "--lock-wait", "soon")]
    public async Task BadUsageExits2WithOneLineInsteadOfHelp(params string[] arguments)
    {
        var run = await CoderdDb.RunAsync(arguments);

        AssertOneLineFailure(run, 2);
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task DatabaseAheadOfTheBuildExits5()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "INSERT INTO schema_version (version, description) VALUES (209912310001, 'from a newer build')");

        var run = await CoderdDb.RunAsync("up", "--connection", database);

        AssertOneLineFailure(run, 5, CliDatabases.Password(database));
        Assert.Contains("209912310001", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockHeldLongerThanLockWaitExits4()
    {
        // Given another migrator's session holding the migration lock
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await using var holder = await CliDatabases.OpenAsync(database, applicationName: "other-migrator");
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_lock({SchemaMigrator.LockKey})", holder))
        {
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        // When up may wait one second for it
        var run = await CoderdDb.RunAsync("up", "--connection", database, "--lock-wait", "1");

        // Then it gives up, names the holder, and created nothing
        AssertOneLineFailure(run, 4, CliDatabases.Password(database));
        Assert.Contains($"pid {holder.ProcessID} (other-migrator", run.Stderr, StringComparison.Ordinal);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(15), run.ToString());
        Assert.False(await CliDatabases.TableExistsAsync(database, "schema_version"));
    }

    private static void AssertOneLineFailure(CliRun run, int exitCode, string? password = null)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("coderd-db: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, run.Output, StringComparison.Ordinal);
        if (password is not null) Assert.DoesNotContain(password, run.Output, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        // A port the OS just handed out and that nothing listens on any more: connecting is refused.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

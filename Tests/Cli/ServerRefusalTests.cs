using System.Security.Cryptography;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// Servers the CLI must refuse or give up on with their own exit code and one line, classified by
/// SQLSTATE and the server's own answers rather than by message text: a hot standby, a session the
/// server ends mid-migration (57P01), a <c>schema_version</c> table of another tool.
/// </summary>
public sealed class ServerRefusalTests(PostgresFixture fixture)
{
    [Fact]
    public async Task HotStandbyIsRefusedUpFrontWithExit3ButCanBeRead()
    {
        // Given a server in recovery (a standby waiting for WAL)
        await using var standby = await Standby.StartAsync();

        // When up and down run against it, and status reads it
        var up = await CoderdDb.RunAsync("up", "--connection", standby.ConnectionString);
        var down = await CoderdDb.RunAsync("down", "--to", "0", "--connection", standby.ConnectionString);
        var status = await CoderdDb.RunAsync("status", "--connection", standby.ConnectionString);

        // Then up and down exit 3 with one line saying why, and status works
        foreach (var run in new[] { up, down })
        {
            Assert.True(run.ExitCode == 3, run.ToString());
            Assert.Contains("hot standby", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
        }

        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains($"0 applied, {CliDatabases.Versions.Count} pending", status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionEndedByTheServerMidMigrationExits3AndLeavesNothingHalfApplied()
    {
        // Given a migrator in the middle of the MCP migration, its ALTER of chats waiting behind another session's lock
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);
        await using var blocker = await CliDatabases.HoldLockOnChatsAsync(database, "blocking-session");
        await using var migrator = CoderdDb.Start(["up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "120"]);
        await CliDatabases.WaitUntilAsync(async () => await CliDatabases.WaitingOnChatsAsync(database) > 0,
            TimeSpan.FromSeconds(30), "the MCP migration to wait for its lock on chats");

        // When the server ends its session, as a shutdown or restart does (57P01)
        await CliDatabases.ExecuteAsync(database,
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'public.chats'::regclass AND NOT granted");
        var run = await migrator.WaitAsync(TimeSpan.FromSeconds(30));

        // Then it exits 3 saying the server went away and to run again, and the migration left nothing
        Assert.True(run.ExitCode == 3, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains($"The server went away during migration {AddMcpServerConfigs}", line, StringComparison.Ordinal);
        Assert.Contains("57P01", line, StringComparison.Ordinal);
        Assert.Contains("run again", line, StringComparison.Ordinal);
        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("up")]
    public async Task VersionTableOfAnotherToolExits5NamingIt(string verb)
    {
        // Given a database where another tool (Flyway's old default) keeps its history in public.schema_version
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await CliDatabases.ExecuteAsync(database, """
            CREATE TABLE public.schema_version (installed_rank integer PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
                type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
                installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);
            INSERT INTO public.schema_version VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 0, 'app', now(), 5, true);
            """);

        // When coderd-db reads or migrates it
        var run = await CoderdDb.RunAsync(verb, "--connection", database);

        // Then it exits 5 with one line naming the table, not a raw "column does not exist", and creates nothing
        Assert.True(run.ExitCode == 5, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("public.schema_version is not this tool's version table", line, StringComparison.Ordinal);
        Assert.DoesNotContain("42703", line, StringComparison.Ordinal);
        Assert.False(await CliDatabases.TableExistsAsync(database, "users"));
    }

    /// <summary>
    /// A throwaway standby: a local cluster restarted with <c>standby.signal</c> and no primary, so it
    /// stays in recovery and accepts read-only connections.
    /// </summary>
    private sealed class Standby(LocalCluster cluster) : IAsyncDisposable
    {
        public string ConnectionString => cluster.ConnectionString;

        public static async Task<Standby> StartAsync()
        {
            var token = TestContext.Current.CancellationToken;
            var folder = Path.Combine(ThrowawayCluster.Root, "coderd-standby-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
            try
            {
                await (await LocalCluster.OpenAsync(folder, TimeSpan.Zero, durable: false, cancellationToken: token)).DisposeAsync();
                await File.WriteAllTextAsync(Path.Combine(folder, "data", "standby.signal"), "", token);
                return new Standby(await LocalCluster.OpenAsync(folder, TimeSpan.Zero, durable: false, cancellationToken: token));
            }
            catch
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await cluster.DisposeAsync();
            Directory.Delete(cluster.Folder, recursive: true);
        }
    }
}

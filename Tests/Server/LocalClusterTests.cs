using System.Diagnostics;
using System.Globalization;
using Coderd.Database.Server;
using Coderd.Database.Tests.Cli;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Server;

/// <summary>One throwaway cluster shared by the tests that only read from it.</summary>
public sealed class ThrowawayClusterFixture : IAsyncLifetime
{
    internal LocalCluster Cluster => Throwaway.Cluster;

    private ThrowawayCluster Throwaway { get; set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => Throwaway = await ThrowawayCluster.StartAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Throwaway.DisposeAsync();
}

public sealed class LocalClusterTests(ThrowawayClusterFixture throwaway) : IClassFixture<ThrowawayClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WrongPasswordIsRejected()
    {
        var builder = new NpgsqlConnectionStringBuilder(throwaway.Cluster.ConnectionString) { Password = "not-the-password", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync(Token));

        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Fact]
    public async Task ServerRunsInUtcOnLoopbackWithoutUnixSocket()
    {
        Assert.Equal("UTC", await ShowAsync(throwaway.Cluster.ConnectionString, "TimeZone"));
        Assert.Equal("127.0.0.1", await ShowAsync(throwaway.Cluster.ConnectionString, "listen_addresses"));
        Assert.Equal("", await ShowAsync(throwaway.Cluster.ConnectionString, "unix_socket_directories"));
        Assert.Equal("UTF8", await ShowAsync(throwaway.Cluster.ConnectionString, "server_encoding"));
        Assert.Equal("off", await ShowAsync(throwaway.Cluster.ConnectionString, "fsync"));
    }

    [Fact]
    public async Task ThrowawayRunsTheMajorThatTestPostgresMajorAsksFor()
    {
        var expected = PostgresMajors.Requested() ?? PostgresBinaries.Find().MajorVersion;

        var versionNumber = int.Parse(await ShowAsync(throwaway.Cluster.ConnectionString, "server_version_num"), CultureInfo.InvariantCulture);

        Assert.Equal((expected, expected), (versionNumber / 10000, throwaway.Cluster.MajorVersion));
    }

    [Fact]
    public async Task ServerLogIsWrittenInTheDataDirectory()
    {
        await ShowAsync(throwaway.Cluster.ConnectionString, "server_version");

        var log = Path.Combine(throwaway.Cluster.DataDirectory, "server.log");
        Assert.Contains("ready to accept connections", await File.ReadAllTextAsync(log, Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeStopsTheServerAndDeletesItsFolder()
    {
        var cluster = await ThrowawayCluster.StartAsync(Token);
        Assert.Equal(1, await Sql.ScalarAsync<int>(cluster.Cluster.ConnectionString, "SELECT 1", Token));

        await cluster.DisposeAsync();

        Assert.False(Directory.Exists(cluster.Cluster.Folder));
        await using var connection = new NpgsqlConnection(cluster.Cluster.ConnectionString);
        await Assert.ThrowsAsync<NpgsqlException>(() => connection.OpenAsync(Token));
    }

    [Fact]
    public async Task ThrowawayOfAKilledRunIsRemovedByTheNextOne()
    {
        // Given a cluster folder whose process was killed while its server ran
        var abandoned = Path.Combine(ThrowawayCluster.Root, ThrowawayCluster.FolderPrefix + "killed-" + Guid.NewGuid().ToString("N")[..8]);
        var serverPid = await LeaveAKilledRunAsync(abandoned);

        // When the next throwaway cluster starts
        await using var next = await ThrowawayCluster.StartAsync(Token);

        // Then the abandoned server is stopped and its folder gone
        Assert.False(Directory.Exists(abandoned));
        await CliDatabases.WaitUntilAsync(() => Task.FromResult(HasExited(serverPid)), TimeSpan.FromSeconds(10), $"the abandoned server {serverPid} to exit");
    }

    [Fact]
    public async Task PersistentClusterKeepsDataAcrossRuns()
    {
        using var folder = new TemporaryFolder();

        await using (var first = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token))
        {
            await Sql.ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('from the first run')", Token);
        }

        await using var second = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token);

        Assert.Equal("from the first run", await Sql.ScalarAsync<string>(second.ConnectionString, "SELECT value FROM kept", Token));
        Assert.Equal("on", await ShowAsync(second.ConnectionString, "fsync"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder.Path, "password")));
        }
    }

    [Fact]
    public async Task PersistentClusterStartsAfterItsServerWasKilled()
    {
        using var folder = new TemporaryFolder();
        var first = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token);
        await Sql.ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (value int); INSERT INTO kept VALUES (42); CHECKPOINT", Token);

        // What a crash or an OOM kill leaves behind: a postmaster.pid naming a dead process.
        var pidFile = Path.Combine(first.DataDirectory, "postmaster.pid");
        using (var server = Process.GetProcessById(int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture)))
        {
            server.Kill();
            await server.WaitForExitAsync(Token);
        }

        await first.DisposeAsync();
        Assert.True(File.Exists(pidFile));

        await using var second = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token);

        Assert.Equal(42, await Sql.ScalarAsync<int>(second.ConnectionString, "SELECT value FROM kept", Token));
    }

    [Fact]
    public async Task ServerOfAKilledRunIsRestartedByTheNextOpen()
    {
        using var folder = new TemporaryFolder();
        var serverPid = await LeaveAKilledRunAsync(folder.Path);

        await using var reopened = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token);

        Assert.True(reopened.StartedServer);
        Assert.Equal(1, await Sql.ScalarAsync<int>(reopened.ConnectionString, "SELECT 1", Token));
        await CliDatabases.WaitUntilAsync(() => Task.FromResult(HasExited(serverPid)), TimeSpan.FromSeconds(10), $"the abandoned server {serverPid} to exit");
    }

    [Fact]
    public async Task SecondOpenWaitsUntilTheFirstIsDisposed()
    {
        using var folder = new TemporaryFolder();
        var first = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token);
        var log = new StringWriter();

        var second = LocalCluster.OpenAsync(folder.Path, Wait, log: log, cancellationToken: Token);
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        Assert.False(second.IsCompleted, "The second open did not wait for the first.");
        await first.DisposeAsync();
        await using var opened = await second;

        Assert.Equal(1, await Sql.ScalarAsync<int>(opened.ConnectionString, "SELECT 1", Token));
        Assert.Contains($"Waiting for another process using the PostgreSQL cluster in {folder.Path}", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenGivesUpAfterTheWaitWithOneLine()
    {
        using var folder = new TemporaryFolder();
        await using var first = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => LocalCluster.OpenAsync(folder.Path, TimeSpan.FromSeconds(1), cancellationToken: Token));

        Assert.Contains(folder.Path, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(1, await Sql.ScalarAsync<int>(first.ConnectionString, "SELECT 1", Token));
    }

    [Fact]
    public async Task ServerStartedByHandIsUsedAndLeftRunning()
    {
        // Given a cluster whose server someone started by hand with pg_ctl
        using var folder = new TemporaryFolder();
        await CreateAsync(folder.Path);
        var (major, port) = await StartByHandAsync(folder.Path);
        var data = Path.Combine(folder.Path, "data");
        try
        {
            // When it is opened and disposed
            await using (var cluster = await LocalCluster.OpenAsync(folder.Path, Wait, cancellationToken: Token))
            {
                Assert.False(cluster.StartedServer);
                Assert.Equal(port, cluster.Port);
                Assert.Equal(1, await Sql.ScalarAsync<int>(cluster.ConnectionString, "SELECT 1", Token));
            }

            // Then the server still runs
            Assert.Equal(0, (await PgCtlAsync(major, "status", "-D", data)).ExitCode);
        }
        finally
        {
            await PgCtlAsync(major, "stop", "-D", data, "-m", "fast", "-w");
        }
    }

    [Fact]
    public async Task PersistentFolderBelowAFileFailsWithOneLineMessage()
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(folder.Path);
        var file = Path.Combine(folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "", Token);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalCluster.OpenAsync(Path.Combine(file, "db"), Wait, cancellationToken: Token));

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task PersistentFolderUnderRootHomeIsRefusedWhenRoot()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "Only root runs the cluster as another user.");
        var folder = Path.Combine("/root", "coderd-db-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalCluster.OpenAsync(folder, Wait, cancellationToken: Token));

            Assert.Contains("cannot write to", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task CreateAsync(string folder) => await (await LocalCluster.OpenAsync(folder, Wait, cancellationToken: Token)).DisposeAsync();

    /// <summary>Starts the stopped cluster's server with pg_ctl, as someone would by hand; returns its major and port.</summary>
    private static async Task<(int Major, int Port)> StartByHandAsync(string folder)
    {
        var data = Path.Combine(folder, "data");
        var major = int.Parse(await File.ReadAllTextAsync(Path.Combine(data, "PG_VERSION"), Token), CultureInfo.InvariantCulture);
        var port = LocalCluster.FreeLoopbackPort();
        var started = await PgCtlAsync(major, "start", "-D", data, "-l", Path.Combine(data, "by-hand.log"), "-w",
            "-o", $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories=''");
        Assert.True(started.ExitCode == 0, started.StandardError);
        return (major, port);
    }

    /// <summary>
    /// Leaves in <paramref name="folder"/> what a process killed while its cluster's server ran (a
    /// crashed or OOM-killed deployment job or test run) leaves behind: the server running, the owner
    /// file naming the dead process, the folder lock free. Made step by step rather than by killing a
    /// real coderd-db, which stops its own server a second after starting it, sooner than a busy test
    /// host may get to kill it. Returns the pid of the server left running.
    /// </summary>
    private static async Task<int> LeaveAKilledRunAsync(string folder)
    {
        // Made elsewhere and moved in while locked: ThrowawayCluster, in parallel test classes, deletes abandoned folders.
        using var made = new TemporaryFolder();
        await CreateAsync(made.Path);
        await using var locked = new FileStream(Path.Combine(made.Path, LocalCluster.LockFile), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Directory.Move(made.Path, folder);
        await StartByHandAsync(folder);
        using var gone = Process.Start("true")!;
        await gone.WaitForExitAsync(Token);
        await File.WriteAllTextAsync(Path.Combine(folder, LocalCluster.OwnerFile), $"{gone.Id}\n", Token);
        return int.Parse(File.ReadLines(Path.Combine(folder, "data", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
    }

    private static Task<ProcessRunner.Result> PgCtlAsync(int major, params string[] arguments) =>
        LocalCluster.RunAsClusterUserAsync(PostgresBinaries.Find(major).PgCtl, arguments, Token);

    // A stopped server can linger as a zombie until init reaps it, hence the callers' polling.
    private static bool HasExited(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    private static async Task<string> ShowAsync(string connectionString, string setting) =>
        (await Sql.ScalarAsync<string>(connectionString, $"SHOW {setting}", Token))!;

    /// <summary>A folder that the postgres user can reach, removed afterwards.</summary>
    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(ThrowawayCluster.Root, "coderd-db-test-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.Tests.Server;

/// <summary>One throwaway cluster shared by the tests that only read from it.</summary>
public sealed class ThrowawayClusterFixture : IAsyncLifetime
{
    internal LocalCluster Cluster { get; private set; } = null!;

    /// <inheritdoc />
    public async ValueTask InitializeAsync() => Cluster = await LocalCluster.CreateThrowawayAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class LocalClusterTests(ThrowawayClusterFixture throwaway) : IClassFixture<ThrowawayClusterFixture>
{
    [Fact]
    public async Task WrongPasswordIsRejected()
    {
        var builder = new NpgsqlConnectionStringBuilder(throwaway.Cluster.ConnectionString) { Password = "not-the-password", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync(TestContext.Current.CancellationToken));

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
    public async Task ServerLogIsWrittenInTheDataDirectory()
    {
        await ShowAsync(throwaway.Cluster.ConnectionString, "server_version");

        var log = Path.Combine(throwaway.Cluster.DataDirectory, "server.log");
        Assert.Contains("ready to accept connections", await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeStopsTheServerAndDeletesItsFolder()
    {
        var cluster = await LocalCluster.CreateThrowawayAsync(TestContext.Current.CancellationToken);
        var folder = Path.GetDirectoryName(cluster.DataDirectory)!;
        Assert.Equal(1, await ScalarAsync(cluster.ConnectionString, "SELECT 1"));

        await cluster.DisposeAsync();

        Assert.False(Directory.Exists(folder));
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await Assert.ThrowsAsync<NpgsqlException>(() => connection.OpenAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ThrowawayOfAKilledRunIsRemovedByTheNextOne()
    {
        var abandoned = await LocalCluster.CreateThrowawayAsync(TestContext.Current.CancellationToken);
        var abandonedFolder = Path.GetDirectoryName(abandoned.DataDirectory)!;
        // Pretend the run that created it was killed before it could dispose it.
        await File.WriteAllTextAsync(Path.Combine(abandonedFolder, "coderd-owner.pid"), DeadProcessId() + "\n", TestContext.Current.CancellationToken);
        NpgsqlConnection.ClearPool(new NpgsqlConnection(abandoned.ConnectionString));

        await using var next = await LocalCluster.CreateThrowawayAsync(TestContext.Current.CancellationToken);

        Assert.False(Directory.Exists(abandonedFolder));
        await using var old = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(abandoned.ConnectionString) { Pooling = false }.ConnectionString);
        await Assert.ThrowsAsync<NpgsqlException>(() => old.OpenAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PersistentClusterKeepsDataAcrossRuns()
    {
        using var folder = new TemporaryFolder();

        await using (var first = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken))
        {
            await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('from the first run')");
        }

        await using var second = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken);

        Assert.Equal("from the first run", await ScalarAsync(second.ConnectionString, "SELECT value FROM kept"));
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
        var first = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken);
        await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (value int); INSERT INTO kept VALUES (42); CHECKPOINT");
        NpgsqlConnection.ClearPool(new NpgsqlConnection(first.ConnectionString));

        // What a crash or an OOM kill leaves behind: a postmaster.pid naming a dead process.
        var pidFile = Path.Combine(first.DataDirectory, "postmaster.pid");
        var serverPid = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        using (var server = Process.GetProcessById(serverPid))
        {
            server.Kill();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        Assert.True(File.Exists(pidFile));

        await using var second = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken);

        Assert.Equal(42, await ScalarAsync(second.ConnectionString, "SELECT value FROM kept"));
    }

    [Fact]
    public async Task PersistentClusterLeftRunningByDeadOwnerIsTakenOver()
    {
        using var folder = new TemporaryFolder();
        var abandoned = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken);
        // Pretend the run that opened it was killed without disposing it.
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "coderd-owner.pid"), DeadProcessId() + "\n", TestContext.Current.CancellationToken);

        await using var reopened = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken);

        Assert.Equal(1, await ScalarAsync(reopened.ConnectionString, "SELECT 1"));
        await using var old = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(abandoned.ConnectionString) { Pooling = false }.ConnectionString);
        await Assert.ThrowsAsync<NpgsqlException>(() => old.OpenAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PersistentClusterInUseByLiveProcessIsRefused()
    {
        using var folder = new TemporaryFolder();
        await using var first = await LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalCluster.OpenPersistentAsync(folder.Path, TestContext.Current.CancellationToken));

        Assert.Contains($"in use by process {Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync(first.ConnectionString, "SELECT 1"));
    }

    [Fact]
    public async Task PersistentFolderBelowAFileFailsWithOneLineMessage()
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(folder.Path);
        var file = Path.Combine(folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "", TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalCluster.OpenPersistentAsync(Path.Combine(file, "db"), TestContext.Current.CancellationToken));

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
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalCluster.OpenPersistentAsync(folder, TestContext.Current.CancellationToken));

            Assert.Contains("cannot write to", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<string> ShowAsync(string connectionString, string setting) =>
        (string)(await ScalarAsync(connectionString, $"SHOW {setting}"))!;

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static int DeadProcessId()
    {
        using var process = Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }

    /// <summary>A folder under /var/tmp that the postgres user can reach, removed afterwards.</summary>
    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine("/var/tmp", "coderd-db-test-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }
}

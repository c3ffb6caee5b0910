using System.Diagnostics;
using System.Globalization;
using Coderd.Database.Migrations;
using Npgsql;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// A server that stops answering must not hang a deployment job forever: the client gives up after
/// the statement timeout plus a margin, and the sessions carry TCP keepalives, which notice a peer
/// that vanished while a statement runs.
/// </summary>
public sealed class ClientDeadlineTests(PostgresFixture postgres) : IAsyncDisposable
{
    /// <summary>The kernel's tables of this process's TCP sockets, IPv4 and IPv6.</summary>
    private static readonly string[] TcpTables = ["/proc/self/net/tcp", "/proc/self/net/tcp6"];

    private const long SleepingVersion = 2099_01_01_0004;

    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task ServerThatFallsSilentMidMigrationIsGivenUpAfterTheStatementTimeoutPlusTheMargin()
    {
        // Given a migration that runs for a while, reached through a relay that can go silent
        var (database, _) = await _databases.CreateAsync();
        var target = new NpgsqlConnectionStringBuilder(database);
        await using var proxy = new FreezingProxy(target.Host!, target.Port);
        // (Npgsql then tries to cancel the statement over a new connection, which the silent relay
        // also swallows: that costs up to the connect timeout more.)
        var migrator = Sleeping(
            new NpgsqlConnectionStringBuilder(database) { Host = "127.0.0.1", Port = proxy.Port, ApplicationName = "frozen-migrator", Timeout = 5 }.ConnectionString,
            TimeSpan.FromSeconds(1));

        // When the relay freezes while the migration's statement runs
        var watch = Stopwatch.StartNew();
        var up = migrator.UpAsync(cancellationToken: Token);
        await WaitForSleepAsync(database, "frozen-migrator", up);
        proxy.Freeze();
        var finished = await Task.WhenAny(up, Task.Delay(TimeSpan.FromSeconds(45), Token));

        // Then the migrator gives the server up, well before a hang would be noticed, as a lost connection
        Assert.True(finished == up, "The migrator still waits for the silent server after 45 s.");
        var error = await Assert.ThrowsAsync<MigrationException>(() => up);
        Assert.Equal(MigrationError.ConnectionLost, error.Error);
        Assert.Contains($"The server went away during migration {SleepingVersion}", error.Message, StringComparison.Ordinal);
        Assert.Contains("no answer within 6 s, the statement timeout plus 5 s", error.Message, StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task MigratorSessionsUseTcpKeepalives()
    {
        // Given a migration that runs for a while
        var (database, _) = await _databases.CreateAsync();
        var migrator = Sleeping(new NpgsqlConnectionStringBuilder(database) { ApplicationName = "keepalive-migrator" }.ConnectionString, TimeSpan.FromSeconds(30));
        var up = migrator.UpAsync(cancellationToken: Token);
        try
        {
            // When its statement runs
            var port = await WaitForSleepAsync(database, "keepalive-migrator", up);

            // Then the migrator's socket (this process's, found by its port), once idle, has the
            // keepalive timer armed, due within the 30 s of idleness the runner asks for
            var timer = await IdleTimerAsync(port);
            Assert.True(timer is ("02", var due) && due > TimeSpan.Zero && due <= TimeSpan.FromSeconds(30), $"Socket timer of port {port}: {timer}.");
        }
        finally
        {
            await using var connection = await OpenAsync(database);
            await ExecuteAsync(connection, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'keepalive-migrator'");
            await Assert.ThrowsAsync<MigrationException>(() => up);
        }
    }

    private static SchemaMigrator Sleeping(string connectionString, TimeSpan statementTimeout) =>
        new(new MigratorOptions { ConnectionString = connectionString, StatementTimeout = statementTimeout },
            [MigrationInfo.Of(typeof(SleepingMigration), SleepingVersion, "Test only: sleep")]);

    /// <summary>Waits until the migrator's backend sleeps in the migration; returns the client port of its session.</summary>
    private static async Task<int> WaitForSleepAsync(string database, string applicationName, Task up)
    {
        await using var connection = await OpenAsync(database);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var ports = await ListAsync(connection,
                $"SELECT client_port::text FROM pg_stat_activity WHERE application_name = '{applicationName}' AND query LIKE '%pg_sleep%' AND state = 'active'");
            if (ports.Count > 0) return int.Parse(ports[0], CultureInfo.InvariantCulture);
            if (up.IsCompleted) await up;
            if (DateTime.UtcNow > deadline) Assert.Fail("The migration never reached pg_sleep.");
            await Task.Delay(20, Token);
        }
    }

    /// <summary>
    /// The timer Linux shows for the TCP socket on local port <paramref name="port"/> once nothing
    /// is in flight on it (<c>/proc/net/tcp</c>'s <c>tr:tm->when</c>: kind <c>02</c> is the keepalive
    /// timer of an idle socket, <c>00</c> none; <c>01</c>, retransmission, shows while data is
    /// unacknowledged). Null when the socket is not found or never idle within a few seconds.
    /// </summary>
    private static async Task<(string Kind, TimeSpan Due)?> IdleTimerAsync(int port)
    {
        var local = $":{port:X4}";
        for (var look = 0; look < 100; look++)
        {
            var fields = TcpTables
                .Where(File.Exists)
                .SelectMany(File.ReadLines)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .FirstOrDefault(f => f.Length > 5 && f[1].EndsWith(local, StringComparison.Ordinal));
            if (fields is null) return null;
            if (fields[4] == "00000000:00000000")
            {
                var timer = fields[5].Split(':');
                // In jiffies of USER_HZ: 100 per second on Linux.
                return (timer[0], TimeSpan.FromSeconds(Convert.ToInt64(timer[1], 16) / 100.0));
            }

            await Task.Delay(30, Token);
        }

        return null;
    }

    private sealed class SleepingMigration : SchemaMigration
    {
        public override void Up() => Execute.Sql("SELECT pg_catalog.pg_sleep(60)");

        public override void Down() => Execute.Sql("SELECT 1");
    }
}

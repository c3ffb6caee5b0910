using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests;

/// <summary>
/// A real PgBouncer (the Debian package <c>pgbouncer</c>) in front of the tests' PostgreSQL, on a
/// free 127.0.0.1 port, in session or transaction pooling mode, with SCRAM authentication: each
/// role's secret is copied from <c>pg_authid</c> into its auth file, so PgBouncer logs in to the
/// server with the client's own credentials. Runs as the <c>postgres</c> OS user when this process
/// is root (PgBouncer refuses root too). Disposing stops it and deletes its _folder.
/// </summary>
internal sealed class PgBouncer : IAsyncDisposable
{
    private const string Package = "pgbouncer";
    private static readonly string[] Locations = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"];

    private readonly string _folder;
    private readonly int _pid;

    private PgBouncer(string folder, int port, int pid)
    {
        _folder = folder;
        _pid = pid;
        Port = port;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>
    /// Starts a PgBouncer that serves every database of the server behind <paramref name="adminConnectionString"/>
    /// (a superuser's: it reads <c>pg_authid</c>) to <paramref name="roles"/> (default: that superuser).
    /// </summary>
    /// <param name="adminConnectionString"></param>
    /// <param name="poolMode"><c>session</c> or <c>transaction</c>.</param>
    /// <param name="poolSize">Server connections per database and role: small, to make clients share them.</param>
    /// <param name="roles"></param>
    public static async Task<PgBouncer> StartAsync(string adminConnectionString, string poolMode, int poolSize, IReadOnlyList<string>? roles = null)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("The PgBouncer fixture runs on Linux.");
        var cancellationToken = TestContext.Current.CancellationToken;
        var binary = Locations.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"PgBouncer is not installed (looked in {string.Join(", ", Locations)}); apt-get install -y {Package}, as .ci/run does.");
        var server = new NpgsqlConnectionStringBuilder(adminConnectionString);
        roles ??= [server.Username!];

        var secrets = new StringBuilder();
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(adminConnectionString) { Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT rolname, rolpassword FROM pg_catalog.pg_authid WHERE rolname = ANY($1) AND rolpassword IS NOT NULL", connection)
            {
                Parameters = { new() { Value = roles.ToArray() } },
            };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) secrets.Append(CultureInfo.InvariantCulture, $"\"{reader.GetString(0)}\" \"{reader.GetString(1)}\"\n");
        }

        var folder = Path.Combine(ThrowawayCluster.Root, "coderd-pgbouncer-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var port = LocalCluster.FreeLoopbackPort();
            var config = Path.Combine(folder, "pgbouncer.ini");
            var pidFile = Path.Combine(folder, "pgbouncer.pid");
            var log = Path.Combine(folder, "pgbouncer.log");
            await File.WriteAllTextAsync(Path.Combine(folder, "userlist.txt"), secrets.ToString(), cancellationToken);
            await File.WriteAllTextAsync(config, $"""
                [databases]
                * = host={server.Host} port={server.Port}

                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = {port}
                unix_socket_dir =
                auth_type = scram-sha-256
                auth_file = {folder}/userlist.txt
                pool_mode = {poolMode}
                default_pool_size = {poolSize}
                max_client_conn = 200
                ; Npgsql sends these; PgBouncer would refuse the connection otherwise.
                ignore_startup_parameters = extra_float_digits,options
                logfile = {log}
                pidfile = {pidFile}

                """, cancellationToken);

            // PgBouncer refuses root too: it runs as PostgreSQL's user, and writes its log and pid file here.
            foreach (var path in new[] { folder, config, Path.Combine(folder, "userlist.txt") }) await LocalCluster.GiveToClusterUserAsync(path, cancellationToken);
            var started = await LocalCluster.RunAsClusterUserAsync(binary, ["-d", config], cancellationToken);
            if (started.ExitCode != 0) throw new InvalidOperationException($"PgBouncer did not start: {started.StandardError}{Tail(log)}");

            // The pid file exists, empty, for a moment before PgBouncer writes its pid into it.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            int pid;
            while (!Listens(port) || !File.Exists(pidFile)
                   || !int.TryParse(await File.ReadAllTextAsync(pidFile, cancellationToken), NumberStyles.None | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out pid))
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"PgBouncer did not listen on 127.0.0.1:{port} and write its pid within 15 s.{Tail(log)}");
                await Task.Delay(50, cancellationToken);
            }

            return new PgBouncer(folder, port, pid);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary><paramref name="connectionString"/> pointed at this PgBouncer instead of the server; same database, role and password.</summary>
    public string Route(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port, Pooling = false }.ConnectionString;

    /// <summary>The last lines of its log, for a failing test's message.</summary>
    public string LogTail(int lines = 20) =>
        string.Join("\n", File.ReadLines(Path.Combine(_folder, "pgbouncer.log")).TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        // SIGTERM: PgBouncer closes its client and server connections at once.
        if (Signals.Send(_pid, Signals.Terminate))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Directory.Exists($"/proc/{_pid}") && DateTime.UtcNow < deadline) await Task.Delay(20);
            // Nothing more to do if even SIGKILL fails: the folder is removed below either way.
            if (Directory.Exists($"/proc/{_pid}")) _ = Signals.Send(_pid, Signals.Kill);
        }

        Directory.Delete(_folder, recursive: true);
    }

    private static string Tail(string log) =>
        File.Exists(log) ? " Log: " + string.Join(" | ", File.ReadLines(log).TakeLast(5)) : "";

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

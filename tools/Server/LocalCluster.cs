using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// A PostgreSQL cluster in a local folder, run from the installed binaries: SCRAM password
/// authentication, 127.0.0.1 only, no Unix socket, <c>TimeZone=UTC</c>.
/// </summary>
/// <remarks>
/// The folder holds <c>data/</c> (the cluster, with <c>server.log</c>), <c>password</c> (0600,
/// generated once), <c>coderd-db.lock</c> (locked by the process using the folder, so that a second
/// one waits for it) and <c>coderd-owner.pid</c> (while a server this class started runs). A server
/// found running without that file was started by hand: it is used and left running. PostgreSQL
/// refuses to run as root, so as root the folder belongs to the OS user <c>postgres</c> and the
/// server programs run through <c>runuser</c>.
/// </remarks>
public sealed class LocalCluster : IAsyncDisposable
{
    private const string ClusterUser = "postgres";
    private const string OwnerFile = "coderd-owner.pid";
    private const string LockFile = "coderd-db.lock";
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(60);

    // Where util-linux puts runuser on the distributions we know.
    private static readonly string[] RunUserPaths = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"];

    private readonly PostgresBinaries _binaries;
    private readonly FileStream _folderLock;
    private int _stopped;

    private LocalCluster(PostgresBinaries binaries, string folder, FileStream folderLock, string host, int port, string password, bool startedServer)
    {
        _binaries = binaries;
        _folderLock = folderLock;
        Folder = folder;
        Port = port;
        StartedServer = startedServer;
        ConnectionString = new NpgsqlConnectionStringBuilder { Host = host, Port = port, Username = ClusterUser, Password = password, Database = "postgres" }.ConnectionString;
    }

    /// <summary>Superuser connection string to the <c>postgres</c> database; contains the password.</summary>
    public string ConnectionString { get; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The PostgreSQL major version of the cluster.</summary>
    public int MajorVersion => _binaries.MajorVersion;

    /// <summary>The cluster's folder.</summary>
    public string Folder { get; }

    /// <summary>The cluster's data directory (holds <c>server.log</c>).</summary>
    public string DataDirectory => Path.Combine(Folder, "data");

    /// <summary>True when this instance started the server and stops it when disposed; false when
    /// it found a server started by hand, which it leaves running.</summary>
    public bool StartedServer { get; }

    /// <summary>
    /// Opens the cluster in <paramref name="folder"/>, creating it on first use: waits while another
    /// process uses the folder, then starts the server unless one started by hand already runs there.
    /// </summary>
    /// <param name="folder">The cluster's folder; created if missing.</param>
    /// <param name="wait">How long to wait for another process using the folder.</param>
    /// <param name="durable">False for a throwaway cluster: fsync and full page writes off.</param>
    /// <param name="log">Told once when the folder is in use and this call waits.</param>
    /// <param name="binaries">The server programs that create a new cluster; default the newest
    /// installed (<see cref="PostgresBinaries.Find"/>). An existing cluster runs with them when they are
    /// of its major version, else with the installed programs of its version.</param>
    /// <param name="cancellationToken">Stops waiting or starting.</param>
    /// <exception cref="TimeoutException">Another process used the folder for longer than <paramref name="wait"/>.</exception>
    /// <exception cref="InvalidOperationException">The folder is unusable, or initdb or the server failed; the message says what to do.</exception>
    public static async Task<LocalCluster> OpenAsync(
        string folder, TimeSpan wait, bool durable = true, TextWriter? log = null, PostgresBinaries? binaries = null, CancellationToken cancellationToken = default)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("A local PostgreSQL cluster needs Linux or macOS; pass a connection string instead.");
        folder = Path.GetFullPath(folder);
        if (File.Exists(folder)) throw new InvalidOperationException($"{folder} is a file, not a folder; pass a folder for the embedded database.");
        try
        {
            // An empty folder made for us (mkdir before the first run) is taken over as if we had created it.
            if (!Directory.Exists(folder) || !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                await GiveToClusterUserAsync(folder, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new InvalidOperationException($"Cannot create the folder {folder} ({e.Message.TrimEnd('.')}); choose a folder you can write to.", e);
        }

        await RequireReachableAsync(folder, cancellationToken).ConfigureAwait(false);
        var folderLock = await LockAsync(folder, wait, log, cancellationToken).ConfigureAwait(false);
        try
        {
            var (programs, password) = await InitializeAsync(folder, durable, binaries, cancellationToken).ConfigureAwait(false);
            var data = Path.Combine(folder, "data");
            if (ServerProcessId(data) is not null)
            {
                if (!File.Exists(Path.Combine(folder, OwnerFile)))
                {
                    var (host, port) = ListeningOn(data);
                    return new LocalCluster(programs, folder, folderLock, host, port, password, startedServer: false);
                }

                // Started by a run that died before stopping it: ours to restart, by the programs that started it.
                await StopServerAsync(RunningBinaries(data) ?? programs, folder, immediate: false).ConfigureAwait(false);
            }

            await File.WriteAllTextAsync(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", cancellationToken).ConfigureAwait(false);
            var started = await StartServerAsync(programs, folder, durable, cancellationToken).ConfigureAwait(false);
            return new LocalCluster(programs, folder, folderLock, "127.0.0.1", started, password, startedServer: true);
        }
        catch
        {
            if (ServerProcessId(Path.Combine(folder, "data")) is null) File.Delete(Path.Combine(folder, OwnerFile));
            await folderLock.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Stops the server and deletes <paramref name="folder"/> when no process uses it (its process
    /// was killed); returns false, touching nothing, when one does or the folder is no cluster's.
    /// </summary>
    public static async Task<bool> TryDeleteAbandonedAsync(string folder)
    {
        FileStream held;
        try
        {
            held = new FileStream(Path.Combine(folder, LockFile), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return false;
        }

        await using (held.ConfigureAwait(false))
        {
            var data = Path.Combine(folder, "data");
            if (ServerProcessId(data) is not null && ReadMajorVersion(data) is { } major)
            {
                await StopServerAsync(RunningBinaries(data) ?? PostgresBinaries.Find(major), folder, immediate: true).ConfigureAwait(false);
            }

            Directory.Delete(folder, recursive: true);
        }

        return true;
    }

    /// <summary>Stops the server if this instance started it (fast shutdown: sessions are
    /// disconnected) and lets the next process use the folder. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        try
        {
            // Pooled connections would otherwise linger as broken sockets to a server that is gone.
            NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
            if (StartedServer)
            {
                await StopServerAsync(_binaries, Folder, immediate: false).ConfigureAwait(false);
                File.Delete(Path.Combine(Folder, OwnerFile));
            }
        }
        finally
        {
            await _folderLock.DisposeAsync().ConfigureAwait(false);
        }
    }

    // The kernel drops the lock when its process dies, however it dies: nothing stale to clean up.
    private static async Task<FileStream> LockAsync(string folder, TimeSpan wait, TextWriter? log, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        for (var told = false; ; told = true)
        {
            try
            {
                return new FileStream(Path.Combine(folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                if (watch.Elapsed >= wait)
                {
                    throw new TimeoutException(
                        $"The PostgreSQL cluster in {folder} was in use by another process for {wait.TotalSeconds:0} s; wait for it to finish or use another folder.", e);
                }

                if (!told && log is not null) await log.WriteLineAsync($"Waiting for another process using the PostgreSQL cluster in {folder} ...").ConfigureAwait(false);
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<(PostgresBinaries Binaries, string Password)> InitializeAsync(
        string folder, bool durable, PostgresBinaries? given, CancellationToken cancellationToken)
    {
        var data = Path.Combine(folder, "data");
        var passwordFile = Path.Combine(folder, "password");
        if (ReadMajorVersion(data) is { } major)
        {
            return File.Exists(passwordFile)
                ? (given?.MajorVersion == major ? given : PostgresBinaries.Find(major), File.ReadAllText(passwordFile).Trim())
                : throw new InvalidOperationException($"{passwordFile} is missing, so the cluster in {folder} cannot be logged into; delete the folder to start afresh.");
        }

        if (Directory.Exists(data) && Directory.EnumerateFileSystemEntries(data).Any())
        {
            throw new InvalidOperationException($"{data} is not empty but holds no PostgreSQL cluster (no PG_VERSION); remove it or choose another folder.");
        }

        var binaries = given ?? PostgresBinaries.Find();
        // Hex keeps the password free of characters that need quoting in a connection string or pwfile.
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        File.Delete(passwordFile);
        // Created 0600 from the start: there is no moment in which another user could read it.
        await using (var stream = new FileStream(passwordFile, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(password + "\n"), cancellationToken).ConfigureAwait(false);
        }

        await GiveToClusterUserAsync(passwordFile, cancellationToken).ConfigureAwait(false);
        // initdb learned --no-instructions (no "start the server with ..." hint) in PostgreSQL 14.
        string[] arguments =
        [
            "-D", data, "-U", ClusterUser, "-A", "scram-sha-256", "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C",
            .. binaries.MajorVersion >= 14 ? ["--no-instructions"] : Array.Empty<string>(),
            .. durable ? Array.Empty<string>() : ["--no-sync"],
        ];
        var result = await RunAsClusterUserAsync(binaries.InitDb, arguments, folder, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0
            ? (binaries, password)
            : throw new InvalidOperationException($"initdb failed in {folder}: {LastLines(result.StandardError, 3)}");
    }

    private static async Task<int> StartServerAsync(PostgresBinaries binaries, string folder, bool durable, CancellationToken cancellationToken)
    {
        var data = Path.Combine(folder, "data");
        var logFile = Path.Combine(data, "server.log");
        for (var attempt = 1; ; attempt++)
        {
            // Only this run's log matters, and a persistent cluster's would otherwise grow forever.
            File.Delete(logFile);
            var port = FreeLoopbackPort();
            // pg_ctl hands these to /bin/sh, hence the quoted empty value. No Unix socket: nothing
            // here needs one, and a socket path would tie the cluster to a folder the user can reach.
            var options = $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' -c TimeZone=UTC -c log_timezone=UTC"
                + (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
            var result = await RunAsClusterUserAsync(binaries.PgCtl,
                ["start", "-D", data, "-l", logFile, "-w", "-s", "-t", ServerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), "-o", options],
                folder, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode == 0) return port;
            var log = File.Exists(logFile) ? LastLines(await File.ReadAllTextAsync(logFile, cancellationToken).ConfigureAwait(false), 6) : "(no log written)";
            // Another process may take the port between our probe and the server's bind.
            if (attempt < 3 && log.Contains("could not bind", StringComparison.Ordinal)) continue;
            throw new InvalidOperationException($"PostgreSQL did not start in {data}: {LastLines(result.StandardError, 2)} Server log: {log}");
        }
    }

    private static async Task StopServerAsync(PostgresBinaries binaries, string folder, bool immediate)
    {
        var data = Path.Combine(folder, "data");
        if (ServerProcessId(data) is null) return;
        string[] arguments = ["stop", "-D", data, "-m", immediate ? "immediate" : "fast", "-w", "-s", "-t", ServerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)];
        var result = await RunAsClusterUserAsync(binaries.PgCtl, arguments, folder, CancellationToken.None).ConfigureAwait(false);
        if (result.ExitCode != 0 && ServerProcessId(data) is not null)
        {
            throw new InvalidOperationException($"pg_ctl stop failed for {data}: {LastLines(result.StandardError, 2)}");
        }
    }

    // The working directory must be one the cluster user can enter: initdb and pg_ctl resolve it.
    private static Task<ProcessRunner.Result> RunAsClusterUserAsync(string program, string[] arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        var runUser = !Environment.IsPrivilegedProcess ? null : RunUserPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Running as root needs runuser (util-linux) to start PostgreSQL as 'postgres'; install util-linux or run as a normal user.");
        return ProcessRunner.RunAsync(runUser ?? program, runUser is null ? arguments : ["-u", ClusterUser, "--", program, .. arguments],
            new Dictionary<string, string?> { ["LC_ALL"] = "C" }, workingDirectory, ServerTimeout + TimeSpan.FromSeconds(10), cancellationToken);
    }

    private static async Task GiveToClusterUserAsync(string path, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess) return;
        var result = await ProcessRunner.RunAsync("chown", [ClusterUser + ":", path], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Running as root, the cluster must belong to the OS user '{ClusterUser}', but chown failed ({LastLines(result.StandardError, 1)}); create that user (useradd --system {ClusterUser}) or run as a normal user.");
        }
    }

    private static async Task RequireReachableAsync(string folder, CancellationToken cancellationToken)
    {
        if (Environment.IsPrivilegedProcess && (await RunAsClusterUserAsync("test", ["-w", folder, "-a", "-x", folder], "/", cancellationToken).ConfigureAwait(false)).ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL runs as '{ClusterUser}', which cannot write to {folder} or reach it through its parent folders; use a folder outside /root, such as one under /var/tmp.");
        }
    }

    private static int? ReadMajorVersion(string data) =>
        File.Exists(Path.Combine(data, "PG_VERSION")) ? int.Parse(File.ReadAllText(Path.Combine(data, "PG_VERSION")).Trim(), CultureInfo.InvariantCulture) : null;

    // postmaster.opts starts with the path of the running server's program: its pg_ctl is beside it,
    // wherever it was installed, even when no installed version of that major remains.
    private static PostgresBinaries? RunningBinaries(string data)
    {
        try
        {
            var line = File.ReadLines(Path.Combine(data, "postmaster.opts")).FirstOrDefault() ?? "";
            var end = line.IndexOf(" \"", StringComparison.Ordinal);
            var folder = Path.GetDirectoryName(end < 0 ? line.Trim() : line[..end]);
            return folder is { Length: > 0 } && File.Exists(Path.Combine(folder, "pg_ctl")) ? PostgresBinaries.InFolder(folder) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return null;
        }
    }

    // postmaster.pid: pid, data directory, start time, port, socket directory, first listen address, ...
    private static string[] PidFileLines(string data)
    {
        try
        {
            return File.ReadAllLines(Path.Combine(data, "postmaster.pid"));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static int? ServerProcessId(string data)
    {
        if (PidFileLines(data) is not [var first, ..] || !int.TryParse(first, CultureInfo.InvariantCulture, out var pid)) return null;
        try
        {
            // The name guards against a pid reused by an unrelated process since the file was written.
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && process.ProcessName == "postgres" ? pid : null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static (string Host, int Port) ListeningOn(string data)
    {
        var lines = PidFileLines(data);
        var address = lines.Length > 5 ? lines[5].Trim() : "";
        if (address.Length == 0 || lines.Length < 4 || !int.TryParse(lines[3], CultureInfo.InvariantCulture, out var port))
        {
            throw new InvalidOperationException($"The PostgreSQL running in {data} does not listen on TCP; stop it, or restart it with -c listen_addresses=127.0.0.1.");
        }

        return (address is "*" or "0.0.0.0" or "localhost" ? "127.0.0.1" : address == "::" ? "::1" : address, port);
    }

    /// <summary>A TCP port of 127.0.0.1 that nothing listens on right now (another process may take it).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // Messages stay on one line: the lines are joined with " | ".
    private static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(count));
    }
}

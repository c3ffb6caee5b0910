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
/// generated once), <see cref="LockFile"/> and, while a server this class started runs,
/// <see cref="OwnerFile"/>. A server found running without it was started by hand: it is used and
/// left running. PostgreSQL refuses to run as root, so as root the folder belongs to the OS user
/// <c>postgres</c> and the server programs run as that user.
/// </remarks>
public sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>Locked by the process using the folder; the kernel drops the lock when that process dies, however it dies.</summary>
    public const string LockFile = "coderd-db.lock";

    /// <summary>Written before this class starts the server, deleted once it stopped it: left behind, it marks the server of a killed run.</summary>
    public const string OwnerFile = "coderd-owner.pid";

    private const string ClusterUser = "postgres";
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(60);
    // Where util-linux puts runuser on the distributions we know.
    private static readonly string[] RunUserPaths = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"];

    private readonly FileStream _folderLock;
    private int _disposed;

    private LocalCluster(string folder, FileStream folderLock, int majorVersion, string host, int port, string password, bool startedServer)
    {
        (Folder, _folderLock, MajorVersion, Port, StartedServer) = (folder, folderLock, majorVersion, port, startedServer);
        ConnectionString = new NpgsqlConnectionStringBuilder { Host = host, Port = port, Username = ClusterUser, Password = password, Database = "postgres" }.ConnectionString;
    }

    /// <summary>Superuser connection string to the <c>postgres</c> database; contains the password.</summary>
    public string ConnectionString { get; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The PostgreSQL major version of the cluster.</summary>
    public int MajorVersion { get; }

    /// <summary>The cluster's folder.</summary>
    public string Folder { get; }

    /// <summary>The cluster's data directory (holds <c>server.log</c>).</summary>
    public string DataDirectory => Data(Folder);

    /// <summary>True when this instance started the server and stops it when disposed; false for a server started by hand, left running.</summary>
    public bool StartedServer { get; }

    /// <summary>
    /// Opens the cluster in <paramref name="folder"/>, creating the folder and the cluster on first
    /// use (<paramref name="durable"/> false, for a throwaway one, turns fsync and full page writes
    /// off and allows the prepared transactions tests hold locks with): waits up to <paramref name="wait"/> while another process uses the folder, saying so once
    /// on <paramref name="log"/>, then starts the server, unless one started by hand already runs
    /// there. <paramref name="binaries"/> create a new cluster and run one of their major (default:
    /// <see cref="PostgresBinaries.Find"/>'s); <paramref name="cancellationToken"/> stops waiting or starting.
    /// </summary>
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

        if (Environment.IsPrivilegedProcess && (await RunAsClusterUserAsync("test", ["-w", folder, "-a", "-x", folder], cancellationToken).ConfigureAwait(false)).ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL runs as '{ClusterUser}', which cannot write to {folder} or reach it through its parent folders; use a folder outside /root, such as one under /var/tmp.");
        }

        var folderLock = await LockAsync(folder, wait, log, cancellationToken).ConfigureAwait(false);
        try
        {
            var (programs, password) = await InitializeAsync(folder, durable, binaries, cancellationToken).ConfigureAwait(false);
            if (ServerProcessId(folder) is not null)
            {
                if (!File.Exists(Path.Combine(folder, OwnerFile)))
                {
                    var (host, port) = ListeningOn(folder);
                    return new LocalCluster(folder, folderLock, programs.MajorVersion, host, port, password, startedServer: false);
                }

                await StopServerAsync(folder, immediate: false).ConfigureAwait(false);
            }

            await File.WriteAllTextAsync(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", cancellationToken).ConfigureAwait(false);
            var started = await StartServerAsync(programs, folder, durable, cancellationToken).ConfigureAwait(false);
            return new LocalCluster(folder, folderLock, programs.MajorVersion, "127.0.0.1", started, password, startedServer: true);
        }
        catch
        {
            if (ServerProcessId(folder) is null) File.Delete(Path.Combine(folder, OwnerFile));
            await folderLock.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Stops the server running in the cluster <paramref name="folder"/>, if any, with the programs that
    /// started it; <paramref name="immediate"/> skips the shutdown checkpoint, for a cluster about to be deleted.
    /// </summary>
    /// <exception cref="InvalidOperationException">pg_ctl failed and the server still runs.</exception>
    public static async Task StopServerAsync(string folder, bool immediate)
    {
        if (ServerProcessId(folder) is null) return;
        var result = await RunAsClusterUserAsync(RunningPgCtl(folder),
            ["stop", "-D", Data(folder), "-m", immediate ? "immediate" : "fast", "-w", "-s", "-t", ServerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false);
        if (result.ExitCode != 0 && ServerProcessId(folder) is not null)
        {
            throw new InvalidOperationException($"pg_ctl stop failed for {Data(folder)}: {LastLines(result.StandardError, 2)}");
        }
    }

    /// <summary>Stops the server if this instance started it (fast shutdown: sessions are
    /// disconnected) and lets the next process use the folder. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            // Pooled connections would otherwise linger as broken sockets to a server that is gone.
            NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
            if (StartedServer)
            {
                await StopServerAsync(Folder, immediate: false).ConfigureAwait(false);
                File.Delete(Path.Combine(Folder, OwnerFile));
            }
        }
        finally
        {
            await _folderLock.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="program"/> as the OS user PostgreSQL runs as: this process's own, or
    /// <c>postgres</c> through <c>runuser</c> when this process is root. The working directory is
    /// <c>/</c>, which that user can enter (initdb and pg_ctl resolve theirs).
    /// </summary>
    public static Task<ProcessRunner.Result> RunAsClusterUserAsync(string program, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var runUser = !Environment.IsPrivilegedProcess ? null : RunUserPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"Running as root needs runuser (util-linux) to run PostgreSQL as '{ClusterUser}'; install util-linux or run as a normal user.");
        return ProcessRunner.RunAsync(runUser ?? program, runUser is null ? arguments : ["-u", ClusterUser, "--", program, .. arguments],
            new Dictionary<string, string?> { ["LC_ALL"] = "C" }, "/", ServerTimeout + TimeSpan.FromSeconds(10), cancellationToken);
    }

    /// <summary>Gives <paramref name="path"/> to the OS user PostgreSQL runs as, when this process is root.</summary>
    /// <exception cref="InvalidOperationException">chown failed.</exception>
    public static async Task GiveToClusterUserAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!Environment.IsPrivilegedProcess) return;
        var result = await ProcessRunner.RunAsync("chown", [ClusterUser + ":", path], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Running as root, the cluster must belong to the OS user '{ClusterUser}', but chown failed ({LastLines(result.StandardError, 1)}); create that user (useradd --system {ClusterUser}) or run as a normal user.");
        }
    }

    /// <summary>A TCP port of 127.0.0.1 that nothing listens on right now (another process may take it).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<FileStream> LockAsync(string folder, TimeSpan wait, TextWriter? log, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        for (var told = false; ; told = true)
        {
            try
            {
                return new FileStream(Path.Combine(folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (watch.Elapsed < wait)
            {
                if (!told && log is not null) await log.WriteLineAsync($"Waiting for another process using the PostgreSQL cluster in {folder} ...").ConfigureAwait(false);
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new TimeoutException(
                    $"The PostgreSQL cluster in {folder} was in use by another process for {wait.TotalSeconds:0} s; wait for it to finish or use another folder.", e);
            }
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<(PostgresBinaries Binaries, string Password)> InitializeAsync(
        string folder, bool durable, PostgresBinaries? given, CancellationToken cancellationToken)
    {
        var data = Data(folder);
        var passwordFile = Path.Combine(folder, "password");
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            var major = MajorOf(folder);
            return File.Exists(passwordFile)
                ? (given?.MajorVersion == major ? given : PostgresBinaries.Find(major), (await File.ReadAllTextAsync(passwordFile, cancellationToken).ConfigureAwait(false)).Trim())
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
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        await using (var stream = new StreamWriter(passwordFile, options)) await stream.WriteLineAsync(password.AsMemory(), cancellationToken).ConfigureAwait(false);

        await GiveToClusterUserAsync(passwordFile, cancellationToken).ConfigureAwait(false);
        // initdb learned --no-instructions (no "start the server with ..." hint) in PostgreSQL 14.
        string[] arguments =
        [
            "-D", data, "-U", ClusterUser, "-A", "scram-sha-256", "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C",
            .. binaries.MajorVersion >= 14 ? ["--no-instructions"] : Array.Empty<string>(),
            .. durable ? Array.Empty<string>() : ["--no-sync"],
        ];
        var result = await RunAsClusterUserAsync(binaries.InitDb, arguments, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 ? (binaries, password) : throw new InvalidOperationException($"initdb failed in {folder}: {LastLines(result.StandardError, 3)}");
    }

    private static async Task<int> StartServerAsync(PostgresBinaries binaries, string folder, bool durable, CancellationToken cancellationToken)
    {
        var logFile = Path.Combine(Data(folder), "server.log");
        for (var attempt = 1; ; attempt++)
        {
            // Only this run's log matters, and a persistent cluster's would otherwise grow forever.
            File.Delete(logFile);
            var port = FreeLoopbackPort();
            // pg_ctl hands these to /bin/sh, hence the quoted empty value. No Unix socket: nothing
            // here needs one, and a socket path would tie the cluster to a folder the user can reach.
            var options = $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' -c TimeZone=UTC -c log_timezone=UTC"
                + (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_prepared_transactions=4");
            var result = await RunAsClusterUserAsync(binaries.PgCtl,
                ["start", "-D", Data(folder), "-l", logFile, "-w", "-s", "-t", ServerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), "-o", options],
                cancellationToken).ConfigureAwait(false);
            if (result.ExitCode == 0) return port;
            var log = File.Exists(logFile) ? LastLines(await File.ReadAllTextAsync(logFile, cancellationToken).ConfigureAwait(false), 6) : "(no log written)";
            // Another process may take the port between our probe and the server's bind.
            if (attempt < 3 && log.Contains("could not bind", StringComparison.Ordinal)) continue;
            throw new InvalidOperationException($"PostgreSQL did not start in {Data(folder)}: {LastLines(result.StandardError, 2)} Server log: {log}");
        }
    }

    private static string Data(string folder) => Path.Combine(folder, "data");

    private static int MajorOf(string folder) => int.Parse(File.ReadAllText(Path.Combine(Data(folder), "PG_VERSION")), CultureInfo.InvariantCulture);

    // The pg_ctl beside the running server's program, which postmaster.opts names first: wherever
    // it was installed, even when no installed version of that major remains.
    private static string RunningPgCtl(string folder)
    {
        var opts = Path.Combine(Data(folder), "postmaster.opts");
        var line = File.Exists(opts) ? File.ReadLines(opts).FirstOrDefault() ?? "" : "";
        var end = line.IndexOf(" \"", StringComparison.Ordinal);
        var pgCtl = Path.Combine(Path.GetDirectoryName(end < 0 ? line.Trim() : line[..end]) ?? "", "pg_ctl");
        return Path.IsPathRooted(pgCtl) && File.Exists(pgCtl) ? pgCtl : PostgresBinaries.Find(MajorOf(folder)).PgCtl;
    }

    // postmaster.pid: pid, data directory, start time, port, socket directory, first listen address, ...
    private static string[] PidFile(string folder)
    {
        try
        {
            return File.ReadAllLines(Path.Combine(Data(folder), "postmaster.pid"));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static int? ServerProcessId(string folder)
    {
        if (PidFile(folder) is not [var first, ..] || !int.TryParse(first, CultureInfo.InvariantCulture, out var pid)) return null;
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

    private static (string Host, int Port) ListeningOn(string folder)
    {
        var lines = PidFile(folder);
        var address = lines.Length > 5 ? lines[5].Trim() : "";
        if (address.Length == 0 || !int.TryParse(lines[3], CultureInfo.InvariantCulture, out var port))
        {
            throw new InvalidOperationException($"The PostgreSQL running in {Data(folder)} does not listen on TCP; stop it, or restart it with -c listen_addresses=127.0.0.1.");
        }

        return (address is "*" or "0.0.0.0" or "localhost" ? "127.0.0.1" : address == "::" ? "::1" : address, port);
    }

    // Messages stay on one line: the lines are joined with " | ".
    private static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(count));
    }
}

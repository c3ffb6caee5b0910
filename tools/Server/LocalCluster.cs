using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// A PostgreSQL server run from the locally installed binaries, listening on a free 127.0.0.1 port,
/// with real (SCRAM) password authentication and <c>TimeZone=UTC</c>.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so when this process is root the cluster belongs to the OS
/// user <c>postgres</c> and every server program is started through <c>runuser</c>.
/// The server outlives a killed caller (pg_ctl detaches it); each cluster folder therefore records
/// the process that owns it, and a later call cleans up after owners that are gone.
/// </remarks>
internal sealed class LocalCluster : IAsyncDisposable
{
    private const string ClusterUser = "postgres";
    private const string OwnerFileName = "coderd-owner.pid";
    private const string PasswordFileName = "password";
    private const string LogFileName = "server.log";
    private const string ThrowawayPrefix = "coderd-pg-";
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(60);

    private readonly PostgresBinaries binaries;
    private readonly string folder;
    private readonly bool throwaway;
    private int stopped;

    private LocalCluster(PostgresBinaries binaries, string folder, bool throwaway, int port, string password)
    {
        this.binaries = binaries;
        this.folder = folder;
        this.throwaway = throwaway;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = ClusterUser,
            Password = password,
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>Superuser connection string to the <c>postgres</c> database; contains the password.</summary>
    public string ConnectionString { get; }

    /// <summary>The loopback port the server listens on for this run.</summary>
    public int Port { get; }

    /// <summary>The PostgreSQL major version of the binaries running the cluster.</summary>
    public int MajorVersion => binaries.MajorVersion;

    /// <summary>The cluster's data directory (holds <c>server.log</c>).</summary>
    public string DataDirectory => Path.Combine(folder, "data");

    /// <summary>
    /// Where <see cref="OpenPersistentAsync"/> keeps its cluster when given no folder:
    /// <c>/var/tmp/coderd-db</c> for root (PostgreSQL's user cannot reach root's home), otherwise
    /// <c>$XDG_DATA_HOME/coderd-db</c> or <c>~/.local/share/coderd-db</c>.
    /// </summary>
    public static string DefaultPersistentFolder
    {
        get
        {
            if (Environment.IsPrivilegedProcess)
            {
                return "/var/tmp/coderd-db";
            }

            var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            if (string.IsNullOrEmpty(dataHome))
            {
                dataHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            }

            return Path.Combine(dataHome, "coderd-db");
        }
    }

    /// <summary>
    /// Creates and starts a cluster in a new folder under <c>$TMPDIR</c> (default <c>/var/tmp</c>),
    /// tuned for speed over durability; disposing stops it and deletes the folder.
    /// </summary>
    /// <exception cref="InvalidOperationException">A program is missing, or initdb or the server
    /// failed; the message includes the end of the server log.</exception>
    public static async Task<LocalCluster> CreateThrowawayAsync(CancellationToken cancellationToken = default)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("A local PostgreSQL cluster is only supported on Linux and macOS; set TEST_DATABASE_URL instead.");
        }

        var binaries = PostgresBinaries.Find();
        var tempRoot = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/var/tmp";
        await RemoveAbandonedThrowawaysAsync(tempRoot, cancellationToken).ConfigureAwait(false);

        var folder = Path.Combine(tempRoot, ThrowawayPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            WriteOwnerFile(folder);
            var password = NewPassword();
            var passwordFile = Path.Combine(folder, PasswordFileName);
            WriteSecretFile(passwordFile, password);
            await GiveToClusterUserAsync(folder, recursive: true, cancellationToken).ConfigureAwait(false);
            await EnsureReachableByClusterUserAsync(folder, cancellationToken).ConfigureAwait(false);

            await InitDbAsync(binaries, folder, passwordFile, durable: false, cancellationToken).ConfigureAwait(false);
            File.Delete(passwordFile);

            var port = await StartServerAsync(binaries, folder, durable: false, cancellationToken).ConfigureAwait(false);
            return new LocalCluster(binaries, folder, throwaway: true, port, password);
        }
        catch
        {
            // Best effort: the original failure is the one worth reporting.
            try
            {
                await StopServerAsync(binaries, folder, immediate: true).ConfigureAwait(false);
                TryDeleteFolder(folder);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or TimeoutException)
            {
            }

            throw;
        }
    }

    /// <summary>
    /// Starts the cluster kept in <paramref name="folder"/> (default <see cref="DefaultPersistentFolder"/>),
    /// creating it on first use; disposing stops the server and keeps the data.
    /// </summary>
    /// <remarks>
    /// Layout: <c>data/</c> (the cluster, with <c>server.log</c>), <c>password</c> (0600, generated
    /// once, reused by later runs) and <c>coderd-owner.pid</c> (the process using it).
    /// </remarks>
    /// <exception cref="InvalidOperationException">The folder is unusable, in use by another live
    /// process, or the server failed to start; the message says what to do.</exception>
    public static async Task<LocalCluster> OpenPersistentAsync(string? folder = null, CancellationToken cancellationToken = default)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("A local PostgreSQL cluster is only supported on Linux and macOS; set TEST_DATABASE_URL instead.");
        }

        folder = Path.GetFullPath(folder ?? DefaultPersistentFolder);
        if (File.Exists(folder))
        {
            throw new InvalidOperationException($"{folder} is a file, not a folder; pass a folder for the embedded database.");
        }

        try
        {
            if (!Directory.Exists(folder))
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                await GiveToClusterUserAsync(folder, recursive: false, cancellationToken).ConfigureAwait(false);
            }
            else if (!Directory.EnumerateFileSystemEntries(folder).Any())
            {
                // An empty folder made for us (mkdir before the first run) is taken over as if we had created it.
                await GiveToClusterUserAsync(folder, recursive: false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new InvalidOperationException($"Cannot create the embedded database folder {folder} ({e.Message}); choose a folder you can write to.", e);
        }

        await EnsureReachableByClusterUserAsync(folder, cancellationToken).ConfigureAwait(false);

        var dataDirectory = Path.Combine(folder, "data");
        var passwordFile = Path.Combine(folder, PasswordFileName);
        var versionFile = Path.Combine(dataDirectory, "PG_VERSION");
        PostgresBinaries binaries;
        if (File.Exists(versionFile))
        {
            var major = int.Parse(File.ReadAllText(versionFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            binaries = PostgresBinaries.Find(major);
            if (!File.Exists(passwordFile))
            {
                throw new InvalidOperationException($"{passwordFile} is missing, so the cluster in {folder} cannot be logged into; delete the folder to start afresh.");
            }

            await StopAbandonedServerAsync(binaries, folder, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
            {
                throw new InvalidOperationException($"{dataDirectory} is not empty but holds no PostgreSQL cluster (no PG_VERSION); remove it or choose another folder.");
            }

            binaries = PostgresBinaries.Find();
            File.Delete(passwordFile);
            WriteSecretFile(passwordFile, NewPassword());
            await GiveToClusterUserAsync(passwordFile, recursive: false, cancellationToken).ConfigureAwait(false);
            await InitDbAsync(binaries, folder, passwordFile, durable: true, cancellationToken).ConfigureAwait(false);
        }

        var password = File.ReadAllText(passwordFile).Trim();
        WriteOwnerFile(folder);
        try
        {
            var port = await StartServerAsync(binaries, folder, durable: true, cancellationToken).ConfigureAwait(false);
            return new LocalCluster(binaries, folder, throwaway: false, port, password);
        }
        catch
        {
            File.Delete(Path.Combine(folder, OwnerFileName));
            throw;
        }
    }

    /// <summary>Stops the server (fast shutdown: sessions are disconnected) and, for a throwaway
    /// cluster, deletes its folder. Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1)
        {
            return;
        }

        // Pooled connections would otherwise linger as broken sockets to a server that is gone.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
        await StopServerAsync(binaries, folder, immediate: false).ConfigureAwait(false);
        if (throwaway)
        {
            TryDeleteFolder(folder);
        }
        else
        {
            File.Delete(Path.Combine(folder, OwnerFileName));
        }
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static async Task InitDbAsync(PostgresBinaries binaries, string folder, string passwordFile, bool durable, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            "-D", Path.Combine(folder, "data"),
            "-U", ClusterUser,
            "-A", "scram-sha-256",
            "--pwfile=" + passwordFile,
            "-E", "UTF8",
            "--locale=C",
            "--no-instructions",
            .. durable ? Array.Empty<string>() : ["--no-sync"],
        ];
        var result = await RunAsClusterUserAsync(binaries.InitDb, arguments, folder, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed in {folder}: {LastLines(result.StandardError, 3)}");
        }
    }

    private static async Task<int> StartServerAsync(PostgresBinaries binaries, string folder, bool durable, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(folder, "data");
        var logFile = Path.Combine(dataDirectory, LogFileName);
        for (var attempt = 1; ; attempt++)
        {
            // Only this run's log matters, and a persistent cluster's would otherwise grow forever.
            File.Delete(logFile);
            var port = FreeLoopbackPort();
            // pg_ctl hands these to /bin/sh, hence the quoted empty value. No Unix socket: nothing
            // here needs one, and a socket path would tie the cluster to a folder the user can reach.
            var options = $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' -c TimeZone=UTC -c log_timezone=UTC";
            if (!durable)
            {
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
            }

            var result = await RunAsClusterUserAsync(
                binaries.PgCtl,
                ["start", "-D", dataDirectory, "-l", logFile, "-w", "-s", "-t", ServerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), "-o", options],
                folder,
                cancellationToken).ConfigureAwait(false);
            if (result.ExitCode == 0)
            {
                return port;
            }

            var log = ReadLogTail(logFile, 6);
            // Another process may take the port between our probe and the server's bind.
            if (attempt < 3 && log.Contains("could not bind", StringComparison.Ordinal))
            {
                continue;
            }

            throw new InvalidOperationException(
                $"PostgreSQL did not start in {dataDirectory}: {LastLines(result.StandardError, 2)} Server log: {log}");
        }
    }

    private static async Task StopServerAsync(PostgresBinaries binaries, string folder, bool immediate)
    {
        var dataDirectory = Path.Combine(folder, "data");
        if (!File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
        {
            return;
        }

        string[] arguments = ["stop", "-D", dataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-s", "-t", ServerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)];
        var result = await RunAsClusterUserAsync(binaries.PgCtl, arguments, folder, CancellationToken.None).ConfigureAwait(false);
        if (result.ExitCode != 0 && File.Exists(Path.Combine(dataDirectory, "postmaster.pid")) && ServerProcessId(dataDirectory) is not null)
        {
            throw new InvalidOperationException($"pg_ctl stop failed for {dataDirectory}: {LastLines(result.StandardError, 2)}");
        }
    }

    // A server whose owner died is stopped; one whose owner lives is left alone, because stopping
    // it would pull the database from under another run.
    private static async Task StopAbandonedServerAsync(PostgresBinaries binaries, string folder, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(folder, "data");
        if (ServerProcessId(dataDirectory) is not { } serverPid)
        {
            // No live server: any postmaster.pid is stale, and the server removes it on start.
            return;
        }

        if (ReadOwner(folder) is { } owner && IsAlive(owner, null))
        {
            throw new InvalidOperationException(
                $"The embedded database in {folder} is in use by process {owner} (server pid {serverPid}); wait for it to finish or use another folder.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        await StopServerAsync(binaries, folder, immediate: false).ConfigureAwait(false);
    }

    private static async Task RemoveAbandonedThrowawaysAsync(string tempRoot, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(tempRoot))
        {
            throw new InvalidOperationException($"The temporary folder {tempRoot} does not exist; create it or set TMPDIR to one that does.");
        }

        foreach (var folder in Directory.EnumerateDirectories(tempRoot, ThrowawayPrefix + "*"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ReadOwner(folder) is not { } owner || IsAlive(owner, null))
            {
                continue;
            }

            var dataDirectory = Path.Combine(folder, "data");
            if (ServerProcessId(dataDirectory) is not null && File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
            {
                var major = int.Parse(File.ReadAllText(Path.Combine(dataDirectory, "PG_VERSION")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
                await StopServerAsync(PostgresBinaries.Find(major), folder, immediate: true).ConfigureAwait(false);
            }

            TryDeleteFolder(folder);
        }
    }

    private static async Task<ProcessRunner.Result> RunAsClusterUserAsync(string program, IEnumerable<string> arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        // The working directory must be one the cluster user can enter: initdb and pg_ctl resolve it.
        var environment = new Dictionary<string, string?> { ["LC_ALL"] = "C" };
        if (Environment.IsPrivilegedProcess)
        {
            return await ProcessRunner.RunAsync(
                RunUser(), ["-u", ClusterUser, "--", program, .. arguments], environment, workingDirectory, ServerTimeout + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }

        return await ProcessRunner.RunAsync(program, arguments, environment, workingDirectory, ServerTimeout + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }

    private static string RunUser() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Running as root needs runuser (util-linux) to start PostgreSQL as 'postgres'; install util-linux or run as a normal user.");

    private static async Task GiveToClusterUserAsync(string path, bool recursive, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        string[] arguments = recursive ? ["-R", ClusterUser + ":", path] : [ClusterUser + ":", path];
        var result = await ProcessRunner.RunAsync("chown", arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Running as root, the cluster must belong to the OS user '{ClusterUser}', but chown failed ({LastLines(result.StandardError, 1)}); create that user (useradd --system {ClusterUser}) or run as a normal user.");
        }
    }

    private static async Task EnsureReachableByClusterUserAsync(string folder, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        var result = await ProcessRunner.RunAsync(RunUser(), ["-u", ClusterUser, "--", "test", "-w", folder, "-a", "-x", folder], workingDirectory: "/", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL runs as '{ClusterUser}', which cannot write to {folder} or reach it through its parent folders; use a folder outside /root, such as one under /var/tmp.");
        }
    }

    private static int? ServerProcessId(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        try
        {
            var firstLine = File.ReadLines(pidFile).FirstOrDefault();
            return int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && IsAlive(pid, "postgres") ? pid : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    // The process name guards against a pid reused by an unrelated process since the file was written.
    private static bool IsAlive(int pid, string? expectedName)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && (expectedName is null || process.ProcessName == expectedName);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static int? ReadOwner(string folder)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(folder, OwnerFileName)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WriteOwnerFile(string folder) =>
        File.WriteAllText(Path.Combine(folder, OwnerFileName), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");

    [UnsupportedOSPlatform("windows")]
    private static void WriteSecretFile(string path, string secret)
    {
        // Created 0600 from the start: there is no moment in which another user could read it.
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(secret);
        writer.Write('\n');
    }

    // Hex keeps the password free of characters that need quoting in a connection string or pwfile.
    private static string NewPassword() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string ReadLogTail(string logFile, int lines)
    {
        try
        {
            return LastLines(File.ReadAllText(logFile), lines);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return "(no log written)";
        }
    }

    // Messages stay on one line: the lines are joined with " | ".
    private static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(count));
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }
}

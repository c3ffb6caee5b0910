using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;
using Testcontainers.PostgreSql;

namespace Coderd.Database.Server;

/// <summary>Where a <see cref="ScratchServer"/> runs.</summary>
internal enum ScratchServerKind
{
    /// <summary>The server named by <c>TEST_DATABASE_URL</c>; nothing was started.</summary>
    TestDatabaseUrl,

    /// <summary>A Testcontainers PostgreSQL 15 container.</summary>
    Container,

    /// <summary>A throwaway <see cref="LocalCluster"/> from the installed binaries.</summary>
    LocalCluster,
}

/// <summary>
/// A PostgreSQL server to create and drop scratch databases on, for the tests and the code
/// generator. Chosen in this order: <c>TEST_DATABASE_URL</c>, a container when a Docker engine
/// answers, a throwaway local cluster.
/// </summary>
/// <remarks>
/// <c>DATABASE_URL</c> is deliberately never read: it usually names a database someone cares about,
/// and this class creates and force-drops databases.
/// </remarks>
internal sealed partial class ScratchServer : IAsyncDisposable
{
    /// <summary>The image used when a Docker engine is available; pinned so dumps do not drift.</summary>
    public const string ContainerImage = "postgres:15.10-alpine";

    private const string UrlVariable = "TEST_DATABASE_URL";
    private static readonly TimeSpan DockerPingTimeout = TimeSpan.FromSeconds(2);

    private readonly LocalCluster? cluster;
    private readonly HashSet<string> created = new(StringComparer.Ordinal);
    private int disposed;

    private ScratchServer(ScratchServerKind kind, string adminConnectionString, LocalCluster? cluster, PostgreSqlContainer? container)
    {
        Kind = kind;
        AdminConnectionString = adminConnectionString;
        this.cluster = cluster;
        Container = container;
    }

    /// <summary>Which of the three choices is in use.</summary>
    public ScratchServerKind Kind { get; }

    /// <summary>Connection string of a user allowed to create databases; contains the password.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The container, when <see cref="Kind"/> is <see cref="ScratchServerKind.Container"/>;
    /// its own <c>pg_dump</c> is used for schema dumps.</summary>
    internal PostgreSqlContainer? Container { get; }

    /// <summary>Picks a server (see the class remarks) and writes one line to <paramref name="log"/>
    /// saying which, without the password.</summary>
    /// <exception cref="FormatException"><c>TEST_DATABASE_URL</c> is set but not a connection string.</exception>
    /// <exception cref="InvalidOperationException">No container engine and no usable local PostgreSQL.</exception>
    public static async Task<ScratchServer> StartAsync(TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);

        if (Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url)
        {
            NpgsqlConnectionStringBuilder builder;
            try
            {
                builder = ConnectionStrings.Parse(url);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{UrlVariable} is set but unusable: {e.Message}", e);
            }

            await log.WriteLineAsync($"PostgreSQL for this run: {UrlVariable} ({ConnectionStrings.Redact(builder)}); nothing started.").ConfigureAwait(false);
            return new ScratchServer(ScratchServerKind.TestDatabaseUrl, builder.ConnectionString, null, null);
        }

        if (await FindDockerEngineAsync(cancellationToken).ConfigureAwait(false) is { } endpoint)
        {
            var container = new PostgreSqlBuilder(ContainerImage)
                .WithDockerEndpoint(endpoint)
                // The published port may be reachable from the network, so no well-known password.
                .WithPassword(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)))
                .WithCommand("-c", "TimeZone=UTC")
                .Build();
            try
            {
                await container.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await container.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            var admin = container.GetConnectionString();
            await log.WriteLineAsync($"PostgreSQL for this run: container {ContainerImage} via {endpoint} ({ConnectionStrings.Redact(admin)}).").ConfigureAwait(false);
            return new ScratchServer(ScratchServerKind.Container, admin, null, container);
        }

        var started = Stopwatch.StartNew();
        var local = await LocalCluster.CreateThrowawayAsync(cancellationToken).ConfigureAwait(false);
        await log.WriteLineAsync(
            $"PostgreSQL for this run: throwaway local cluster (no Docker engine answered), PostgreSQL {local.MajorVersion} on 127.0.0.1:{local.Port}, data in {local.DataDirectory}, ready in {started.Elapsed.TotalSeconds:0.0} s.").ConfigureAwait(false);
        return new ScratchServer(ScratchServerKind.LocalCluster, local.ConnectionString, local, null);
    }

    /// <summary>
    /// Creates a database with a unique name (<paramref name="namePrefix"/>, default <c>coderd_test</c>,
    /// plus a random suffix), optionally as a copy of <paramref name="template"/>.
    /// </summary>
    /// <returns>A connection string to the new database, with the admin credentials.</returns>
    /// <remarks>
    /// PostgreSQL copies a template only while nobody is connected to it, so with a template this
    /// process's idle pooled connections are closed first.
    /// </remarks>
    public async Task<string> CreateDatabaseAsync(string? namePrefix = null, string? template = null, CancellationToken cancellationToken = default)
    {
        var prefix = namePrefix ?? "coderd_test";
        if (!PrefixPattern().IsMatch(prefix))
        {
            throw new ArgumentException("A database name prefix is 1 to 40 characters of a-z, 0-9 and _, starting with a letter or _.", nameof(namePrefix));
        }

        var name = $"{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        var sql = $"CREATE DATABASE {QuoteIdentifier(name)}";
        if (template is not null)
        {
            sql += $" TEMPLATE {QuoteIdentifier(template)}";
            NpgsqlConnection.ClearAllPools();
        }

        await ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
        lock (created)
        {
            created.Add(name);
        }

        return ConnectionStrings.WithDatabase(AdminConnectionString, name);
    }

    /// <summary>Drops the database, disconnecting anyone still connected; no error if it is gone.</summary>
    public async Task DropDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // Pooled idle connections to a dropped database would fail on their next use.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionStrings.WithDatabase(AdminConnectionString, name)));
        await ExecuteAsync($"DROP DATABASE IF EXISTS {QuoteIdentifier(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
        lock (created)
        {
            created.Remove(name);
        }
    }

    /// <summary>
    /// On a <c>TEST_DATABASE_URL</c> server, drops the databases this instance created and leaves
    /// the server alone; otherwise stops the container or cluster with everything in it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        switch (Kind)
        {
            case ScratchServerKind.TestDatabaseUrl:
                string[] names;
                lock (created)
                {
                    names = [.. created];
                }

                // Every database gets its chance to be dropped even if an earlier drop fails.
                List<(string Name, Exception Error)> failures = [];
                foreach (var name in names)
                {
                    try
                    {
                        await DropDatabaseAsync(name).ConfigureAwait(false);
                    }
                    catch (NpgsqlException e)
                    {
                        failures.Add((name, e));
                    }
                }

                if (failures.Count > 0)
                {
                    throw new AggregateException(
                        $"Scratch databases could not be dropped from the {UrlVariable} server; drop them by hand: {string.Join(", ", failures.Select(f => f.Name))}.",
                        failures.Select(f => f.Error));
                }

                break;
            case ScratchServerKind.Container:
                NpgsqlConnection.ClearAllPools();
                await Container!.DisposeAsync().ConfigureAwait(false);
                break;
            case ScratchServerKind.LocalCluster:
                NpgsqlConnection.ClearAllPools();
                await cluster!.DisposeAsync().ConfigureAwait(false);
                break;
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    // Testcontainers' own discovery tries several strategies with long timeouts; a socket that
    // exists and answers /_ping within two seconds is the only thing worth waiting for.
    private static async Task<Uri?> FindDockerEngineAsync(CancellationToken cancellationToken)
    {
        var dockerHost = Environment.GetEnvironmentVariable("DOCKER_HOST");
        IEnumerable<Uri> candidates;
        if (!string.IsNullOrEmpty(dockerHost))
        {
            if (!Uri.TryCreate(dockerHost, UriKind.Absolute, out var uri))
            {
                return null;
            }

            candidates = [uri];
        }
        else
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            candidates = new[]
                {
                    "/var/run/docker.sock",
                    string.IsNullOrEmpty(runtime) ? null : Path.Combine(runtime, "docker.sock"),
                    Path.Combine(home, ".docker", "run", "docker.sock"),
                }
                .OfType<string>()
                .Where(File.Exists)
                .Select(path => new Uri("unix://" + path));
        }

        foreach (var candidate in candidates)
        {
            if (await AnswersPingAsync(candidate, cancellationToken).ConfigureAwait(false))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<bool> AnswersPingAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        Uri pingUri;
        var handler = new SocketsHttpHandler { ConnectTimeout = DockerPingTimeout };
        if (endpoint.Scheme == "unix")
        {
            if (!File.Exists(endpoint.LocalPath))
            {
                return false;
            }

            var socketPath = endpoint.LocalPath;
            handler.ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            pingUri = new Uri("http://docker/_ping");
        }
        else if (endpoint.Scheme == "tcp")
        {
            // TLS-protected engines (DOCKER_TLS_VERIFY) are not probed: they fall through to a local cluster.
            pingUri = new Uri($"http://{endpoint.Authority}/_ping");
        }
        else
        {
            return false;
        }

        using var client = new HttpClient(handler) { Timeout = DockerPingTimeout };
        try
        {
            using var response = await client.GetAsync(pingUri, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException or IOException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex PrefixPattern();
}

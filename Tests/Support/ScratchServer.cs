using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Coderd.Database.Server;
using Docker.DotNet;
using Npgsql;
using Testcontainers.PostgreSql;

namespace Coderd.Database.Tests.Support;

/// <summary>
/// A PostgreSQL server to create and drop scratch databases on, for the tests, the generator and
/// the bench. Chosen in this order: <c>TEST_DATABASE_URL</c>, a container when a Docker engine
/// answers, a <see cref="ThrowawayCluster"/>. <c>TEST_POSTGRES_MAJOR</c> picks the major of the
/// last two (<see cref="PostgresMajors"/>).
/// </summary>
/// <remarks>
/// <c>DATABASE_URL</c> is deliberately never read: it usually names a database someone cares about,
/// and this class creates and force-drops databases.
/// </remarks>
public sealed class ScratchServer : IAsyncDisposable
{
    /// <summary>The variable naming a server to use instead of starting one.</summary>
    public const string UrlVariable = "TEST_DATABASE_URL";

    // The image when no major is asked for; pinned so dumps do not drift.
    private const string ContainerImage = "postgres:15.10-alpine";

    private readonly ThrowawayCluster? _cluster;
    private readonly PostgreSqlContainer? _container;
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);

    private ScratchServer(string adminConnectionString, string version, ThrowawayCluster? cluster = null, PostgreSqlContainer? container = null) =>
        (AdminConnectionString, Version, _cluster, _container) = (adminConnectionString, version, cluster, container);

    /// <summary>Connection string of a user allowed to create databases; contains the password.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The server's version as it reports it (<c>server_version</c>, e.g. <c>17.10</c>).</summary>
    public string Version { get; }

    /// <summary>The server's major version: the leading digits of <see cref="Version"/> (<c>17.10</c>, <c>19beta1</c>).</summary>
    public int MajorVersion => int.Parse(Version.AsSpan(0, Version.AsSpan().IndexOfAnyExceptInRange('0', '9') is var end and > 0 ? end : Version.Length), CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether <see cref="DumpAsync"/> can work: a container brings its own <c>pg_dump</c>; otherwise
    /// the <c>pg_dump</c> of the server's major must be installed here (it refuses newer servers, and
    /// an older server's dump differs from its own major's).
    /// </summary>
    public bool CanDump => _container is not null || PostgresBinaries.Find(MajorVersion).TryGet("pg_dump", out _);

    /// <summary>True when the server is the one of <see cref="UrlVariable"/>, which this class only adds databases to.</summary>
    public bool IsGiven => _cluster is null && _container is null;

    /// <summary>Picks a server (see the class remarks) and writes one line to <paramref name="log"/> saying which, without the password.</summary>
    /// <exception cref="FormatException"><c>TEST_DATABASE_URL</c> is set but not a connection string.</exception>
    /// <exception cref="InvalidOperationException">No container engine and no usable local PostgreSQL.</exception>
    public static async Task<ScratchServer> StartAsync(TextWriter log, CancellationToken cancellationToken = default)
    {
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

            var given = await ReadVersionAsync(builder.ConnectionString, cancellationToken);
            // TEST_DATABASE_URL wins over TEST_POSTGRES_MAJOR; saying so beats a silent surprise.
            var ignored = Environment.GetEnvironmentVariable(PostgresMajors.MajorVariable) is { Length: > 0 } asked ? $" ({PostgresMajors.MajorVariable}={asked} is ignored)" : "";
            await log.WriteLineAsync($"PostgreSQL for this run: {UrlVariable} ({ConnectionStrings.Redact(builder)}), PostgreSQL {given}; nothing started{ignored}.");
            return new ScratchServer(builder.ConnectionString, given);
        }

        var major = PostgresMajors.Requested();
        if (await DockerAnswersAsync(cancellationToken))
        {
            var image = major is null ? ContainerImage : $"postgres:{major}";
            // The published port may be reachable from the network, so no well-known password.
            var container = new PostgreSqlBuilder(image).WithPassword(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))).WithCommand("-c", "TimeZone=UTC").Build();
            try
            {
                await container.StartAsync(cancellationToken);
                var inContainer = await ReadVersionAsync(container.GetConnectionString(), cancellationToken);
                await log.WriteLineAsync($"PostgreSQL for this run: container {image} ({ConnectionStrings.Redact(container.GetConnectionString())}), PostgreSQL {inContainer}.");
                return new ScratchServer(container.GetConnectionString(), inContainer, container: container);
            }
            catch
            {
                await container.DisposeAsync();
                throw;
            }
        }

        var started = Stopwatch.StartNew();
        var local = await ThrowawayCluster.StartAsync(cancellationToken);
        try
        {
            var version = await ReadVersionAsync(local.Cluster.ConnectionString, cancellationToken);
            await log.WriteLineAsync(
                $"PostgreSQL for this run: throwaway local cluster (no Docker engine answered), PostgreSQL {version}{(major is null ? "" : $" ({PostgresMajors.MajorVariable})")} on 127.0.0.1:{local.Cluster.Port}, data in {local.Cluster.DataDirectory}, ready in {started.Elapsed.TotalSeconds:0.0} s.");
            return new ScratchServer(local.Cluster.ConnectionString, version, cluster: local);
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates a database named <paramref name="namePrefix"/> (default <c>coderd_test</c>; a-z, 0-9
    /// and _) plus a random suffix, optionally as a copy of <paramref name="template"/>.
    /// </summary>
    /// <returns>A connection string to the new database, with the admin credentials.</returns>
    public async Task<string> CreateDatabaseAsync(string? namePrefix = null, string? template = null, CancellationToken cancellationToken = default)
    {
        var prefix = namePrefix ?? "coderd_test";
        if (prefix.Length is 0 or > 40 || char.IsAsciiDigit(prefix[0]) || !prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException("A database name prefix is 1 to 40 characters of a-z, 0-9 and _, not starting with a digit.", nameof(namePrefix));
        }

        var name = $"{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        // PostgreSQL copies a template only while nobody is connected to it: close this process's idle sessions.
        if (template is not null) NpgsqlConnection.ClearAllPools();
        await Sql.ExecuteAsync(AdminConnectionString, $"CREATE DATABASE \"{name}\"{(template is null ? "" : $" TEMPLATE \"{template}\"")}", cancellationToken);
        _created[name] = true;
        return Database(name);
    }

    /// <summary>Drops the database, disconnecting anyone still connected; no error if it is gone.</summary>
    public async Task DropDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // Pooled idle connections to a dropped database would fail on their next use.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(Database(name)));
        await Sql.ExecuteAsync(AdminConnectionString, $"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WITH (FORCE)", cancellationToken);
        _created.TryRemove(name, out _);
    }

    /// <summary>
    /// <see cref="SchemaDump.DumpAsync"/> of a database on this server; in a container with the
    /// container's own <c>pg_dump</c>, so the host needs none.
    /// </summary>
    public Task<string> DumpAsync(string connectionString, string headerCommand, CancellationToken cancellationToken = default) =>
        SchemaDump.DumpAsync(connectionString, headerCommand, _container is null ? null : async (target, options, token) =>
        {
            // Inside the container the server trusts its Unix socket, so no password is needed at all.
            var result = await _container.ExecAsync(
                ["env", "PGTZ=UTC", "PGOPTIONS=-c TimeZone=UTC", "pg_dump",
                 "--dbname", ConnectionStrings.ToLibpq(new NpgsqlConnectionStringBuilder { Database = target.Database, Username = target.Username ?? "postgres" }),
                 .. options], token);
            return result.ExitCode == 0 ? result.Stdout : throw new InvalidOperationException($"pg_dump in the container failed: {result.Stderr.Trim()}");
        }, cancellationToken);

    /// <summary>Drops the databases this instance created on a <see cref="UrlVariable"/> server; otherwise stops the container or cluster with everything in it.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_container is not null) await _container.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
        foreach (var name in IsGiven ? _created.Keys : []) await DropDatabaseAsync(name);
    }

    private string Database(string name) => new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;

    private static async Task<string> ReadVersionAsync(string connectionString, CancellationToken cancellationToken) =>
        (await Sql.ScalarAsync<string>(connectionString, "SHOW server_version", cancellationToken))!.Split(' ', 2)[0];

    // Docker.DotNet resolves the endpoint as the docker CLI does (DOCKER_HOST, the current context,
    // the default socket); Testcontainers then finds the same engine. Waiting longer than two seconds
    // for an engine that does not answer would only delay the fallback.
    private static async Task<bool> DockerAnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new DockerClientBuilder().WithTimeout(TimeSpan.FromSeconds(2)).Build();
            await client.System.PingAsync(cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

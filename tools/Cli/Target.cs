using System.Data.Common;
using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.Cli;

/// <summary>
/// The database a verb works on: <c>--connection</c>, else <c>DATABASE_URL</c>, else the embedded
/// PostgreSQL kept in a local folder, started for this run and stopped after it (or, when someone
/// started it by hand, used and left running).
/// </summary>
internal sealed class Target : IAsyncDisposable
{
    public const string UrlVariable = "DATABASE_URL";
    public const string DataVariable = "CODERD_DB_DATA";

    /// <summary>The database the embedded server holds the schema in.</summary>
    private const string EmbeddedDatabase = "coderd";

    private const int DefaultConnectTimeoutSeconds = 10;

    /// <summary>
    /// The embedded database's folder when neither <c>--data-dir</c> nor <c>CODERD_DB_DATA</c> names one:
    /// <c>/var/tmp/coderd-db</c> for root (PostgreSQL's user cannot reach root's home), otherwise
    /// <c>$XDG_DATA_HOME/coderd-db</c> or <c>~/.local/share/coderd-db</c>.
    /// </summary>
    public static string DefaultFolder =>
        Environment.IsPrivilegedProcess ? "/var/tmp/coderd-db"
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } dataHome
            ? dataHome
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "coderd-db");

    private readonly LocalCluster? _cluster;

    private Target(string connectionString, string description, LocalCluster? cluster)
    {
        ConnectionString = connectionString;
        Description = description;
        _cluster = cluster;
    }

    /// <summary>Npgsql keyword form; holds the password, so never print it.</summary>
    public string ConnectionString { get; }

    /// <summary>Where the database is, printable: no password.</summary>
    public string Description { get; }

    /// <summary>Resolves the target; starts the embedded server when no connection is given.</summary>
    /// <param name="settings">The connection, or the embedded database's folder and how long to wait for it.</param>
    /// <param name="notes">Told, in one line, which embedded database is used (which given one too, with --verbose).</param>
    /// <param name="cancellationToken">Stops waiting for or starting the embedded server.</param>
    /// <exception cref="CliException">Exit 2 for a malformed connection string, 3 when the embedded server
    /// cannot start, 4 when another process used it for longer than --lock-wait.</exception>
    public static async Task<Target> OpenAsync(Settings settings, TextWriter notes, CancellationToken cancellationToken)
    {
        if (settings.Connection is { } given)
        {
            var target = FromText(given, settings.ConnectionSource);
            if (settings.Verbose) await notes.WriteLineAsync($"Using {target.Description}.");
            return target;
        }

        var folder = Path.GetFullPath(settings.DataDirectory ?? DefaultFolder);
        LocalCluster cluster;
        try
        {
            // Another coderd-db using the folder is waited for like another migrator's lock.
            cluster = await LocalCluster.OpenAsync(folder, settings.LockWait, log: notes, cancellationToken: cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new CliException(Exit.LockWait, $"{e.Message.TrimEnd('.')}, or raise --lock-wait.", e);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(Exit.Connection,
                $"Cannot start the embedded PostgreSQL in {folder}: {e.Message.TrimEnd('.')}. " +
                $"Pass --connection or set {UrlVariable} to use another server.", e);
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(cluster.ConnectionString);
            Secrets.Add(builder.Password);
            await EnsureDatabaseAsync(builder, cancellationToken);
            builder.Database = EmbeddedDatabase;
            var description = $"embedded PostgreSQL {cluster.MajorVersion} in {folder} ({builder.Host}:{cluster.Port}, database {EmbeddedDatabase})";
            await notes.WriteLineAsync(cluster.StartedServer
                ? $"Using the {description}, started for this run and stopped after it."
                : $"Using the {description}, already running (not started by coderd-db), so left running.");
            return new Target(builder.ConnectionString, description, cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static Target FromText(string text, string source)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = ConnectionStrings.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliException(Exit.Usage, $"{source}: {e.Message}", e);
        }

        Secrets.Add(builder.Password);
        // Npgsql's 15 s default is long for a deployment job that should fail fast; an explicit
        // Timeout (or the URL's connect_timeout) wins.
        if (!new DbConnectionStringBuilder { ConnectionString = builder.ConnectionString }.ContainsKey("Timeout"))
        {
            builder.Timeout = DefaultConnectTimeoutSeconds;
        }

        return new Target(builder.ConnectionString, $"{source} ({ConnectionStrings.Redact(builder)})", null);
    }

    private static async Task EnsureDatabaseAsync(NpgsqlConnectionStringBuilder admin, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Pooling = false });
        await using var exists = dataSource.CreateCommand($"SELECT 1 FROM pg_database WHERE datname = '{EmbeddedDatabase}'");
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = dataSource.CreateCommand($"CREATE DATABASE {EmbeddedDatabase}");
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Stops the embedded server, keeping its data; nothing for other targets.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

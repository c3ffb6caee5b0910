using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.Cli;

/// <summary>
/// The database a verb works on: <c>--connection</c>, else <c>DATABASE_URL</c>, else what the libpq
/// <c>PG*</c> variables name, else (only when none of them is set) the embedded PostgreSQL kept in a
/// local folder, started for this run and stopped after it (or, when someone started it by hand,
/// used and left running). Whichever it is, stderr says so once.
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

    /// <summary>Resolves the target and says on <paramref name="notes"/> which it is; starts the embedded server when nothing names another.</summary>
    /// <param name="settings">The connection and environment, or the embedded database's folder and how long to wait for it.</param>
    /// <param name="notes">Told, in one line, which database is used: where, which, as whom; never the password.</param>
    /// <param name="cancellationToken">Stops waiting for or starting the embedded server.</param>
    /// <exception cref="CliException">Exit 2 for a malformed or empty connection string or a refused
    /// variable, 3 when the embedded server cannot start, 4 when another process used it for longer than --lock-wait.</exception>
    public static async Task<Target> OpenAsync(Settings settings, TextWriter notes, CancellationToken cancellationToken)
    {
        // libpq would read these under any connection string, so they are refused whatever names the target.
        if (LibpqEnvironment.FirstRefused(settings.Variable) is { } refused)
        {
            throw new CliException(Exit.Usage,
                $"{refused} is set, and coderd-db does not honour it (it would change the connection); unset it, and put what it stands for in --connection or {UrlVariable}.");
        }

        if (settings.Connection is { } given)
        {
            if (string.IsNullOrWhiteSpace(given))
            {
                throw new CliException(Exit.Usage, settings.ConnectionSource == UrlVariable
                    ? $"{UrlVariable} is set but empty (a missing secret?); set it to the database's connection string, or unset it to use the PG* variables or the embedded PostgreSQL."
                    : "--connection is empty; pass the database's connection string.");
            }

            return await FromTextAsync(given, settings, notes);
        }

        if (LibpqEnvironment.SetVariables(settings.Variable).Count > 0)
        {
            return await FromTextAsync(null, settings, notes);
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

    /// <summary>The connection string given (or none), under it the PG* variables, under those libpq's defaults.</summary>
    private static async Task<Target> FromTextAsync(string? text, Settings settings, TextWriter notes)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = text is null ? new NpgsqlConnectionStringBuilder() : ConnectionStrings.Parse(text);
        }
        catch (FormatException e)
        {
            // No inner exception: nothing under the message may carry the text.
            throw new CliException(Exit.Usage, $"{settings.ConnectionSource}: {e.Message}");
        }

        IReadOnlyList<string> variables;
        try
        {
            variables = LibpqEnvironment.ApplyDefaults(builder, settings.Variable);
        }
        catch (FormatException e)
        {
            throw new CliException(Exit.Usage, $"{e.Message}; fix or unset it.");
        }

        Secrets.Add(builder.Password);
        Secrets.Add(builder.SslPassword);
        // Npgsql's 15 s default is long for a deployment job that should fail fast; an explicit
        // Timeout (or connect_timeout, or PGCONNECT_TIMEOUT) wins.
        if (!ConnectionStrings.IsSet(builder, "Timeout")) builder.Timeout = DefaultConnectTimeoutSeconds;

        var source = string.Join(" and ", new[] { text is null ? null : settings.ConnectionSource, variables.Count == 0 ? null : string.Join(", ", variables) }.OfType<string>());
        var description = $"{ConnectionStrings.Describe(builder)} (from {source})";
        await notes.WriteLineAsync($"Using {description}.");
        return new Target(builder.ConnectionString, description, null);
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

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Coderd.Database.Migrations;

/// <summary>
/// Applies, rolls back, reports and scripts the schema history, safely when many deployment jobs
/// start at once: one PostgreSQL session advisory lock per database, taken before the version
/// table is read or created; each migration in its own transaction with its version row and
/// with <c>lock_timeout</c>/<c>statement_timeout</c> set inside it; a lock timeout retried with
/// backoff; cancellation rolls back. Never leaves a migration half applied.
/// </summary>
public sealed class SchemaMigrator
{
    /// <summary>The advisory lock key: "code" and "rddb" as two 32-bit halves, so pg_locks shows it readably.</summary>
    internal const long LockKey = (0x636F6465L << 32) | 0x72646462L;

    /// <summary>
    /// The table in which the runner records each applied migration (version, description,
    /// applied_at). It is the runner's bookkeeping, not part of the schema: dumps and catalog
    /// readers leave it out.
    /// </summary>
    public const string VersionTable = "schema_version";

    internal const string BootstrapSql =
        $"CREATE TABLE IF NOT EXISTS {VersionTable} (version bigint NOT NULL PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

    private static readonly TimeSpan LockPollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LockReportInterval = TimeSpan.FromSeconds(5);

    private readonly MigratorOptions _options;
    private NpgsqlDataSource? _dataSource;

    /// <summary>Loads the migrations of <see cref="MigratorOptions.Assemblies"/>; does not connect.</summary>
    /// <exception cref="InvalidOperationException">Two migrations share a version.</exception>
    public SchemaMigrator(MigratorOptions options)
    {
        _options = options;
        Migrations = options.Assemblies is [var only] && only == typeof(SchemaMigrator).Assembly
            ? MigrationInfo.All
            : MigrationInfo.Discover(options.Assemblies);
    }

    /// <summary>Every migration of this build, ordered by version.</summary>
    public IReadOnlyList<MigrationInfo> Migrations { get; }

    /// <summary>The newest version of this build, or 0 when it has no migration.</summary>
    public long LatestVersion => Migrations.Count == 0 ? 0 : Migrations[^1].Version;

    /// <summary>Reads the applied versions without locking or creating anything.</summary>
    /// <exception cref="MigrationException">Cannot connect.</exception>
    public async Task<MigrationStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadStatusAsync(connection, cancellationToken);
    }

    /// <summary>Applies the pending migrations up to <paramref name="to"/> (all when null), each in its own transaction.</summary>
    /// <returns>The migrations applied, in order; empty when the database was up to date.</returns>
    /// <exception cref="MigrationException">See <see cref="MigrationError"/>; earlier migrations stay applied.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the running migration was rolled back.</exception>
    public async Task<IReadOnlyList<AppliedMigration>> UpAsync(long? to = null, CancellationToken cancellationToken = default)
    {
        var target = to ?? LatestVersion;
        if (to is not null) RequireKnown(to.Value, allowZero: false);

        return await WithLockAsync(async connection =>
        {
            var status = await ReadStatusAsync(connection, cancellationToken);
            RefuseUnknown(status);
            var applied = status.Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version).ToHashSet();
            var pending = Migrations.Where(m => !applied.Contains(m.Version) && m.Version <= target).ToList();
            var newestApplied = applied.Count == 0 ? 0 : applied.Max();
            var late = pending.FirstOrDefault(m => m.Version < newestApplied);
            if (late is not null)
            {
                throw new MigrationException(MigrationError.OutOfOrder,
                    $"Migration {late.Version} ({late.Description}) is older than the applied migration {newestApplied}; " +
                    "give it a version after the newest applied one.");
            }

            if (pending.Count == 0) _options.Log.WriteLine($"Database is up to date at version {newestApplied}.");
            var done = new List<AppliedMigration>(pending.Count);
            foreach (var migration in pending)
            {
                done.Add(await RunAsync(connection, migration, up: true, cancellationToken));
            }

            return done;
        }, cancellationToken);
    }

    /// <summary>Rolls back every applied migration newer than <paramref name="to"/> (0 = all), newest first.</summary>
    /// <returns>The migrations rolled back, in the order they were.</returns>
    /// <exception cref="MigrationException">See <see cref="MigrationError"/>; migrations already rolled back stay so.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the running rollback was itself rolled back.</exception>
    public async Task<IReadOnlyList<AppliedMigration>> DownAsync(long to, CancellationToken cancellationToken = default)
    {
        RequireKnown(to, allowZero: true);
        return await WithLockAsync(async connection =>
        {
            var status = await ReadStatusAsync(connection, cancellationToken);
            RefuseUnknown(status);
            var applied = status.Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version).ToHashSet();
            var undo = Migrations.Where(m => applied.Contains(m.Version) && m.Version > to).Reverse().ToList();
            if (undo.Count == 0) _options.Log.WriteLine($"Nothing to roll back: no applied migration is newer than {to}.");
            var done = new List<AppliedMigration>(undo.Count);
            foreach (var migration in undo)
            {
                done.Add(await RunAsync(connection, migration, up: false, cancellationToken));
            }

            return done;
        }, cancellationToken);
    }

    /// <summary>
    /// The SQL that <see cref="UpAsync"/> runs for the migrations after <paramref name="from"/> up to
    /// <paramref name="to"/>, as a psql script: the lock, the version table, then one transaction per
    /// migration. Needs no database.
    /// </summary>
    /// <exception cref="MigrationException"><paramref name="from"/> or <paramref name="to"/> is not 0 or a version of this build.</exception>
    public string Script(long from = 0, long? to = null)
    {
        // A mistyped --from would otherwise silently script everything after it.
        RequireKnown(from, allowZero: true);
        if (to is not null) RequireKnown(to.Value, allowZero: true);
        var target = to ?? LatestVersion;
        return Script(Migrations.Where(m => m.Version > from && m.Version <= target));
    }

    /// <summary>
    /// Like <see cref="Script(long, long?)"/>, but when <paramref name="from"/> is null it covers what
    /// is pending in the connected database (read without locking or creating anything).
    /// </summary>
    public async Task<string> ScriptAsync(long? from, long? to = null, CancellationToken cancellationToken = default)
    {
        if (from is not null) return Script(from.Value, to);
        if (to is not null) RequireKnown(to.Value, allowZero: true);
        var status = await StatusAsync(cancellationToken);
        RefuseUnknown(status);
        var target = to ?? LatestVersion;
        var pending = status.Pending.Where(m => m.Version <= target).Select(m => m.Version).ToHashSet();
        return Script(Migrations.Where(m => pending.Contains(m.Version)));
    }

    private string Script(IEnumerable<MigrationInfo> migrations)
    {
        var sql = new StringBuilder();
        sql.Append("-- Generated by coderd-db script: what `coderd-db up` runs, one transaction per migration.\n");
        sql.Append(CultureInfo.InvariantCulture, $"SELECT pg_advisory_lock({LockKey});\n");
        sql.Append(BootstrapSql).Append(";\n");
        foreach (var migration in migrations)
        {
            sql.Append(CultureInfo.InvariantCulture, $"\n-- {migration.Version}: {migration.Description}\nBEGIN;\n");
            foreach (var statement in TransactionBody(migration, up: true)) sql.Append(statement).Append(";\n");
            sql.Append("COMMIT;\n");
        }

        sql.Append(CultureInfo.InvariantCulture, $"\nSELECT pg_advisory_unlock({LockKey});\n");
        return sql.ToString();
    }

    /// <summary>Everything a migration's transaction runs between BEGIN and COMMIT.</summary>
    internal IReadOnlyList<string> TransactionBody(MigrationInfo migration, bool up)
    {
        var body = new List<string>
        {
            $"SET LOCAL lock_timeout = '{Interval(_options.LockTimeout)}'",
            $"SET LOCAL statement_timeout = '{Interval(_options.StatementTimeout)}'",
        };
        body.AddRange(up ? migration.RenderUp() : migration.RenderDown());
        body.Add(up
            ? string.Create(CultureInfo.InvariantCulture,
                $"INSERT INTO {VersionTable} (version, description) VALUES ({migration.Version}, {Literal(migration.Description)})")
            : string.Create(CultureInfo.InvariantCulture, $"DELETE FROM {VersionTable} WHERE version = {migration.Version}"));
        return body;
    }

    private async Task<AppliedMigration> RunAsync(NpgsqlConnection connection, MigrationInfo migration, bool up, CancellationToken cancellationToken)
    {
        var body = TransactionBody(migration, up);
        if (!up)
        {
            // A rollback drops things: say exactly what before doing it.
            _options.Log.WriteLine($"Rolling back {migration.Version} {migration.Description}:");
            foreach (var statement in body.Skip(2).SkipLast(1)) _options.Log.WriteLine($"    {statement};");
        }

        var watch = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ExecuteInTransactionAsync(connection, body, cancellationToken);
                break;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable && attempt < _options.LockTimeoutRetries)
            {
                var backoff = TimeSpan.FromMilliseconds(500 * (1 << attempt));
                _options.Log.WriteLine(
                    $"  {migration.Version}: lock_timeout ({Interval(_options.LockTimeout)}) waiting for {await DescribeBlockersAsync(connection, e)}; " +
                    $"retry {attempt + 1} of {_options.LockTimeoutRetries} in {backoff.TotalSeconds:0.#} s");
                await Task.Delay(backoff, cancellationToken);
            }
            catch (PostgresException e)
            {
                var blocker = e.SqlState == PostgresErrorCodes.LockNotAvailable
                    ? $" (blocked by {await DescribeBlockersAsync(connection, e)}; retried {_options.LockTimeoutRetries} times)"
                    : "";
                var statement = e.BatchCommand?.CommandText is { } text ? $" in `{Shorten(text)}`" : "";
                throw new MigrationException(MigrationError.MigrationFailed,
                    $"Migration {migration.Version} ({migration.Description}) failed and was rolled back: " +
                    $"{e.SqlState}: {e.MessageText}{blocker}{statement}. Earlier migrations stay applied; fix the cause and run again.", e);
            }
        }

        var result = new AppliedMigration(migration.Version, migration.Description, watch.Elapsed);
        // One line per migration, written when it is done: a deployment log reads as the list of what changed.
        _options.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(up ? "Applied" : "Rolled back")} {migration.Version} {migration.Description} ({result.Duration.TotalMilliseconds:0} ms)"));
        return result;
    }

    /// <summary>One round trip for the statements, one for COMMIT; any failure rolls back all of them.</summary>
    private static async Task ExecuteInTransactionAsync(NpgsqlConnection connection, IReadOnlyList<string> body, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var statement in body) batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
            // The server's statement_timeout governs; the client must not give up first.
            batch.Timeout = 0;
            await batch.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            if (connection.State == System.Data.ConnectionState.Open) await transaction.RollbackAsync(CancellationToken.None);
            throw;
        }
    }

    private async Task<T> WithLockAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        if (connection.PostgreSqlVersion.Major >= 14)
        {
            // If this process dies mid-statement, the server notices the closed socket within a
            // second and aborts the statement (and so the transaction and the lock) instead of
            // running the migration to its end with nobody to commit it.
            await ExecuteAsync(connection, "SET client_connection_check_interval = '1s'", cancellationToken);
        }

        await AcquireLockAsync(connection, cancellationToken);
        try
        {
            await ExecuteAsync(connection, BootstrapSql, cancellationToken);
            return await work(connection);
        }
        finally
        {
            // Closing the session releases the lock too; unlocking first lets the next migrator in
            // without waiting for the connection teardown.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
            }
        }
    }

    private async Task AcquireLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var nextReport = TimeSpan.Zero;
        while (true)
        {
            await using (var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
            {
                if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!) return;
            }

            if (watch.Elapsed >= _options.LockWait)
            {
                throw new MigrationException(MigrationError.LockWaitTimeout,
                    $"Timed out after {_options.LockWait.TotalSeconds:0} s waiting for the migration lock, held by {await DescribeLockHolderAsync(connection)}; " +
                    "let that migrator finish, or raise --lock-wait.");
            }

            if (watch.Elapsed >= nextReport)
            {
                _options.Log.WriteLine($"Waiting for the migration lock ({watch.Elapsed.TotalSeconds:0} s), held by {await DescribeLockHolderAsync(connection)}");
                nextReport += LockReportInterval;
            }

            await Task.Delay(LockPollInterval, cancellationToken);
        }
    }

    private static async Task<string> DescribeLockHolderAsync(NpgsqlConnection connection)
    {
        const string sql = """
            SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), extract(epoch FROM now() - a.backend_start)::int
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = ($1 >> 32)::int::oid AND l.objid = ($1 & 4294967295)::int::oid AND l.objsubid = 1
            """;
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = LockKey } } };
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        return await reader.ReadAsync()
            ? $"pid {reader.GetInt32(0)} ({reader.GetString(1)}, connected {reader.GetInt32(2)} s)"
            : "a session that has just released it";
    }

    /// <summary>
    /// Names the sessions holding locks on the tables of the statement that timed out (all other
    /// lock holders on tables when the statement is unknown), longest-running first.
    /// </summary>
    private static async Task<string> DescribeBlockersAsync(NpgsqlConnection connection, PostgresException error)
    {
        const string sql = """
            SELECT DISTINCT a.pid, coalesce(nullif(a.application_name, ''), '?'), c.relname, l.mode,
                   coalesce(extract(epoch FROM now() - a.xact_start)::int, 0) AS age
            FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.granted AND l.pid <> pg_backend_pid() AND c.relkind IN ('r', 'p')
              AND c.relnamespace <> 'pg_catalog'::regnamespace
            ORDER BY age DESC
            """;
        var statement = error.BatchCommand?.CommandText ?? "";
        var found = new List<string>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        while (await reader.ReadAsync() && found.Count < 3)
        {
            var table = reader.GetString(2);
            if (statement.Length > 0 && !ContainsWord(statement, table)) continue;
            found.Add($"pid {reader.GetInt32(0)} ({reader.GetString(1)}) holding {reader.GetString(3)} on {table} for {reader.GetInt32(4)} s");
        }

        return found.Count == 0 ? "a session that has since let go" : string.Join(", ", found);
    }

    private async Task<MigrationStatus> ReadStatusAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<long, (string Description, DateTimeOffset AppliedAt)>();
        await using (var exists = new NpgsqlCommand($"SELECT to_regclass('{VersionTable}') IS NOT NULL", connection))
        {
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                await using var command = new NpgsqlCommand($"SELECT version, description, applied_at FROM {VersionTable}", connection);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied[reader.GetInt64(0)] = (reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
                }
            }
        }

        var states = Migrations
            .Select(m => new MigrationState(m.Version, m.Description,
                applied.TryGetValue(m.Version, out var a) ? a.AppliedAt : null, Known: true))
            .Concat(applied.Where(a => Migrations.All(m => m.Version != a.Key))
                .Select(a => new MigrationState(a.Key, a.Value.Description, a.Value.AppliedAt, Known: false)))
            .OrderBy(s => s.Version)
            .ToList();
        var serverVersion = connection.ServerVersion.Split(' ', 2)[0];
        return new MigrationStatus(serverVersion, states);
    }

    private void RefuseUnknown(MigrationStatus status)
    {
        var unknown = status.Unknown.Select(m => m.Version).ToList();
        if (unknown.Count > 0)
        {
            throw new MigrationException(MigrationError.DatabaseAhead,
                $"The database has applied migration(s) {string.Join(", ", unknown)} that this build does not know " +
                $"(its newest is {LatestVersion}); run a build that has them.");
        }
    }

    private void RequireKnown(long version, bool allowZero)
    {
        if ((allowZero && version == 0) || Migrations.Any(m => m.Version == version)) return;
        throw new MigrationException(MigrationError.UnknownVersion,
            $"Version {version} is not a migration of this build; use {(allowZero ? "0 or " : "")}one that `status` lists.");
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString)
        {
            // A session of its own: a pooled connection could carry the lock or settings elsewhere.
            Pooling = false,
            Enlist = false,
        };
        builder.ApplicationName ??= "coderd-db";
        // Unpooled, so it holds no connections or timers and needs no disposing. Its queries read
        // only built-in types, so the catalog query Npgsql runs on a first connection to learn the
        // database's types is pure start-up cost, which a CLI would pay on every run.
        _dataSource ??= new NpgsqlDataSourceBuilder(builder.ConnectionString)
            .ConfigureTypeLoading(types => types.EnableTypeLoading(false))
            .Build();
        var connection = _dataSource.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            var where = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
            var reason = e is PostgresException p ? $"{p.SqlState}: {p.MessageText}" : (e.InnerException ?? e).Message;
            throw new MigrationException(MigrationError.ConnectionFailed,
                $"Cannot connect to PostgreSQL at {where}: {reason.TrimEnd('.')}. Check the connection string, that the server runs and that the credentials are right.", e);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string Interval(TimeSpan value) =>
        value.TotalMilliseconds % 1000 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(long)value.TotalSeconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{(long)value.TotalMilliseconds}ms");

    private static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    private static string Shorten(string sql) => sql.Length <= 100 ? sql : sql[..97] + "...";

    private static bool ContainsWord(string text, string word)
    {
        for (var i = text.IndexOf(word, StringComparison.Ordinal); i >= 0; i = text.IndexOf(word, i + 1, StringComparison.Ordinal))
        {
            var before = i == 0 ? ' ' : text[i - 1];
            var after = i + word.Length >= text.Length ? ' ' : text[i + word.Length];
            if (!char.IsLetterOrDigit(before) && before != '_' && !char.IsLetterOrDigit(after) && after != '_') return true;
        }

        return false;
    }
}

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
/// with <c>lock_timeout</c>/<c>statement_timeout</c> set inside it; a lock timeout retried within
/// a time budget, waiting without queueing for the transaction that blocked it; cancellation rolls
/// back. Never leaves a migration half applied.
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

    /// <summary>How often the migrator's idle session asks whether a blocking transaction has ended.</summary>
    private static readonly TimeSpan BlockerPollInterval = TimeSpan.FromMilliseconds(100);

    private readonly MigratorOptions _options;
    private NpgsqlDataSource? _dataSource;

    /// <summary>Loads the migrations of <see cref="MigratorOptions.Assemblies"/>; does not connect.</summary>
    /// <exception cref="InvalidOperationException">Two migrations share a version, or one declares an invalid lock timeout.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A timeout of <paramref name="options"/> is under 1 ms (<see cref="MigratorOptions.StatementTimeout"/> may also be
    /// zero) or over <see cref="int.MaxValue"/> ms, or a wait or budget is negative.
    /// </exception>
    public SchemaMigrator(MigratorOptions options)
        : this(options, options.Assemblies is [var only] && only == typeof(SchemaMigrator).Assembly
            ? MigrationInfo.All
            : MigrationInfo.Discover(options.Assemblies))
    {
    }

    /// <summary>For tests: a migrator for exactly <paramref name="migrations"/>, ordered by version.</summary>
    internal SchemaMigrator(MigratorOptions options, IReadOnlyList<MigrationInfo> migrations)
    {
        // PostgreSQL reads a timeout of 0 as "no limit", and one under 1 ms would be rendered as 0.
        if (!IsValidTimeout(options.LockTimeout))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LockTimeout, "LockTimeout must be between 1 ms and int.MaxValue ms.");
        }

        if (options.StatementTimeout != TimeSpan.Zero && !IsValidTimeout(options.StatementTimeout))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StatementTimeout, "StatementTimeout must be zero (none) or between 1 ms and int.MaxValue ms.");
        }

        if (options.LockRetryBudget < TimeSpan.Zero || options.LockWait < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "LockRetryBudget and LockWait must not be negative.");
        }

        _options = options;
        Migrations = migrations;
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

        return await WithLockAsync(async session =>
        {
            var status = await ReadStatusAsync(session.Connection, cancellationToken);
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
                done.Add(await RunAsync(session, migration, up: true, cancellationToken));
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
        return await WithLockAsync(async session =>
        {
            var status = await ReadStatusAsync(session.Connection, cancellationToken);
            RefuseUnknown(status);
            var applied = status.Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version).ToHashSet();
            var undo = Migrations.Where(m => applied.Contains(m.Version) && m.Version > to).Reverse().ToList();
            if (undo.Count == 0) _options.Log.WriteLine($"Nothing to roll back: no applied migration is newer than {to}.");
            var done = new List<AppliedMigration>(undo.Count);
            foreach (var migration in undo)
            {
                done.Add(await RunAsync(session, migration, up: false, cancellationToken));
            }

            return done;
        }, cancellationToken);
    }

    /// <summary>
    /// Checks that the database is at this build's newest version and that its schema is the one
    /// this build's migrations make (<see cref="SchemaSnapshot.Latest"/>), comparing catalog
    /// snapshots: no client tools are needed, on any supported PostgreSQL major. Reads only.
    /// </summary>
    /// <returns>The differences from the expected schema; none when it matches.</returns>
    /// <exception cref="MigrationException">
    /// <see cref="MigrationError.DatabaseAhead"/> or <see cref="MigrationError.DatabaseBehind"/>: the
    /// versions differ, so the schemas are not comparable; or the database cannot be reached.
    /// </exception>
    public async Task<SchemaVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var status = await ReadStatusAsync(connection, cancellationToken);
        var unknown = status.Unknown.Select(m => m.Version).ToList();
        if (unknown.Count > 0)
        {
            throw new MigrationException(MigrationError.DatabaseAhead,
                $"The database is ahead of this build: it has applied {string.Join(", ", unknown)}, which this build does not know " +
                $"(its newest is {LatestVersion}); verify with the build that applied them.");
        }

        var pending = status.Pending.ToList();
        if (pending.Count > 0)
        {
            throw new MigrationException(MigrationError.DatabaseBehind,
                $"The database is behind this build: {pending.Count} migration(s) pending, the first {pending[0].Version} ({pending[0].Description}); run `coderd-db up`.");
        }

        var found = await SchemaSnapshot.ReadAsync(connection, cancellationToken);
        return new SchemaVerification(LatestVersion, SchemaSnapshot.Compare(SchemaSnapshot.Latest, found));
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
        var defaultTimeout = Interval(_options.LockTimeout);
        var sql = new StringBuilder();
        sql.Append("-- Generated by coderd-db script: what `coderd-db up` runs, one transaction per migration.\n");
        sql.Append(CultureInfo.InvariantCulture, $"SELECT pg_advisory_lock({LockKey});\n");
        sql.Append(BootstrapSql).Append(";\n");
        foreach (var migration in migrations)
        {
            sql.Append(CultureInfo.InvariantCulture, $"\n-- {migration.Version}: {migration.Description}\nBEGIN;\n");
            var body = TransactionBody(migration, up: true);
            sql.Append(body[0]).Append(';');
            // body[0] sets the lock timeout: say where a value other than the runner's comes from.
            var notes = new List<string>(2);
            if (migration.LockTimeout is not null) notes.Add($"this migration's own; the default is {defaultTimeout}");
            if (!migration.RetryOnLockTimeout) notes.Add("not retried after a lock timeout");
            if (notes.Count > 0) sql.Append(" -- ").AppendJoin("; ", notes);
            sql.Append('\n');
            foreach (var statement in body.Skip(1)) sql.Append(statement).Append(";\n");
            sql.Append("COMMIT;\n");
        }

        sql.Append(CultureInfo.InvariantCulture, $"\nSELECT pg_advisory_unlock({LockKey});\n");
        return sql.ToString();
    }

    /// <summary>The lock timeout a migration runs with: its own, else the runner's.</summary>
    internal TimeSpan LockTimeoutOf(MigrationInfo migration) => migration.LockTimeout ?? _options.LockTimeout;

    /// <summary>Everything a migration's transaction runs between BEGIN and COMMIT.</summary>
    internal IReadOnlyList<string> TransactionBody(MigrationInfo migration, bool up)
    {
        var body = new List<string>
        {
            $"SET LOCAL lock_timeout = '{Interval(LockTimeoutOf(migration))}'",
            $"SET LOCAL statement_timeout = '{Interval(_options.StatementTimeout)}'",
        };
        body.AddRange(up ? migration.RenderUp() : migration.RenderDown());
        body.Add(up
            ? string.Create(CultureInfo.InvariantCulture,
                $"INSERT INTO {VersionTable} (version, description) VALUES ({migration.Version}, {Literal(migration.Description)})")
            : string.Create(CultureInfo.InvariantCulture, $"DELETE FROM {VersionTable} WHERE version = {migration.Version}"));
        return body;
    }

    private async Task<AppliedMigration> RunAsync(Session session, MigrationInfo migration, bool up, CancellationToken cancellationToken)
    {
        var body = TransactionBody(migration, up);
        if (!up)
        {
            // A rollback drops things: say exactly what before doing it.
            _options.Log.WriteLine($"Rolling back {migration.Version} {migration.Description}:");
            foreach (var statement in body.Skip(2).SkipLast(1)) _options.Log.WriteLine($"    {statement};");
        }

        var lockTimeout = LockTimeoutOf(migration);
        var budget = _options.LockRetryBudget;
        var watch = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            var execution = ExecuteInTransactionAsync(session.Connection, body, cancellationToken);
            var wait = await WatchAsync(session, execution, lockTimeout, cancellationToken);
            try
            {
                await execution;
                break;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                var waitedFor = wait?.Lock ?? "a lock";
                var blockers = wait?.Blockers ?? [];
                // One line per attempt that timed out, whatever follows: the log counts the stalls it caused.
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"  {migration.Version}: attempt {attempt} gave up after lock_timeout ({Interval(lockTimeout)}) waiting for {waitedFor}, blocked by {BlockingSession.Describe(blockers)}");
                if (!migration.RetryOnLockTimeout)
                {
                    _options.Log.WriteLine(line);
                    throw LockFailure(migration, e, waitedFor, blockers, "this migration does not retry a lock timeout");
                }

                var delay = _options.Backoff.Next(attempt, watch.Elapsed, budget, Random.Shared);
                if (delay is null)
                {
                    _options.Log.WriteLine(line);
                    throw LockFailure(migration, e, waitedFor, blockers, string.Create(CultureInfo.InvariantCulture,
                        $"{attempt} attempt(s) in {watch.Elapsed.TotalSeconds:0.#} s spent the lock retry budget of {budget.TotalSeconds:0.###} s"));
                }

                // Waiting without queueing: while the transaction that blocked this attempt is open,
                // another attempt would only queue behind it again, and the table's queries behind that.
                var waitFor = _options.WaitForBlockers ? blockers.Where(b => b.VirtualTransaction is not null).ToList() : [];
                _options.Log.WriteLine(waitFor.Count > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{line}; next attempt once the blocking transaction has ended, within the retry budget ({(budget - watch.Elapsed).TotalSeconds:0.#} s left)")
                    : string.Create(CultureInfo.InvariantCulture, $"{line}; next attempt in {delay.Value.TotalSeconds:0.##} s"));
                await Task.Delay(delay.Value, cancellationToken);
                if (waitFor.Count == 0) continue;
                var open = await WaitForTransactionsAsync(session.Connection, migration, waitFor, watch, cancellationToken);
                if (open.Count > 0)
                {
                    throw LockFailure(migration, e, waitedFor, open, string.Create(CultureInfo.InvariantCulture,
                        $"still open after {attempt} attempt(s) and the lock retry budget of {budget.TotalSeconds:0.###} s"));
                }
            }
            catch (PostgresException e)
            {
                throw new MigrationException(MigrationError.MigrationFailed,
                    $"Migration {migration.Version} ({migration.Description}) failed and was rolled back: " +
                    $"{e.SqlState}: {e.MessageText}{InStatement(e)}. Earlier migrations stay applied; fix the cause and run again.", e);
            }
        }

        var result = new AppliedMigration(migration.Version, migration.Description, watch.Elapsed);
        // One line per migration, written when it is done: a deployment log reads as the list of what changed.
        _options.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(up ? "Applied" : "Rolled back")} {migration.Version} {migration.Description} ({result.Duration.TotalMilliseconds:0} ms)"));
        return result;
    }

    /// <summary>
    /// Looks from a second session, while the transaction runs, at what its statement is queued for:
    /// first halfway through the lock timeout (a migration that finishes sooner is never looked at),
    /// then often enough to catch the wait before it times out. Returns the last wait seen, if any.
    /// </summary>
    private static async Task<LockWait?> WatchAsync(Session session, Task execution, TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        var delay = Clamp(lockTimeout / 2, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(250));
        var interval = Clamp(lockTimeout / 10, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100));
        LockWait? seen = null;
        while (!cancellationToken.IsCancellationRequested
               && await Task.WhenAny(execution, Task.Delay(delay, CancellationToken.None)) != execution)
        {
            seen = await session.Observer.ObserveAsync(session.Pid) ?? seen;
            delay = interval;
        }

        return seen;
    }

    /// <summary>
    /// Waits, from the migrator's idle session, until none of <paramref name="blockers"/>' transactions
    /// is open or the retry budget is spent; returns those still open (empty: go ahead).
    /// </summary>
    private async Task<IReadOnlyList<BlockingSession>> WaitForTransactionsAsync(
        NpgsqlConnection connection, MigrationInfo migration, IReadOnlyList<BlockingSession> blockers, Stopwatch watch, CancellationToken cancellationToken)
    {
        var budget = _options.LockRetryBudget;
        var nextReport = watch.Elapsed + LockReportInterval;
        while (true)
        {
            var open = await LockObserver.StillOpenAsync(connection, blockers, cancellationToken);
            if (open.Count == 0 || watch.Elapsed >= budget) return open;
            if (watch.Elapsed >= nextReport)
            {
                _options.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {migration.Version}: waiting, without queueing, for the transaction of {BlockingSession.Describe(open)} to end ({watch.Elapsed.TotalSeconds:0} s of the {budget.TotalSeconds:0.###} s retry budget)"));
                nextReport += LockReportInterval;
            }

            var left = budget - watch.Elapsed;
            await Task.Delay(left < BlockerPollInterval ? left : BlockerPollInterval, cancellationToken);
        }
    }

    private static MigrationException LockFailure(
        MigrationInfo migration, PostgresException error, string waitedFor, IReadOnlyList<BlockingSession> blockers, string why) =>
        new(MigrationError.MigrationFailed,
            $"Migration {migration.Version} ({migration.Description}) failed and was rolled back: {error.SqlState}: {error.MessageText} " +
            $"(waiting for {waitedFor}, blocked by {BlockingSession.Describe(blockers)}; {why}){InStatement(error)}. " +
            "Earlier migrations stay applied; end or wait out the blocking transaction, or raise the lock retry budget, then run again.", error);

    private static string InStatement(PostgresException error) =>
        error.BatchCommand?.CommandText is { } text ? $" in `{Shorten(text)}`" : "";

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;

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

    private async Task<T> WithLockAsync<T>(Func<Session, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // If this process dies mid-statement, the server notices the closed socket within a
        // second and aborts the statement (and so the transaction and the lock) instead of
        // running the migration to its end with nobody to commit it. The pid is asked, not taken
        // from the protocol's key data, which a session-pooling PgBouncer makes up.
        var pidSql = connection.PostgreSqlVersion.Major >= 14
            ? "SELECT pg_backend_pid(), set_config('client_connection_check_interval', '1s', false)"
            : "SELECT pg_backend_pid()";
        int pid;
        await using (var command = new NpgsqlCommand(pidSql, connection))
        {
            pid = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        await using var observer = new LockObserver(_dataSource!);
        await AcquireLockAsync(connection, cancellationToken);
        try
        {
            await ExecuteAsync(connection, BootstrapSql, cancellationToken);
            return await work(new Session(connection, pid, observer));
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
        const string Sql = """
            SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), extract(epoch FROM now() - a.backend_start)::int
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = ($1 >> 32)::int::oid AND l.objid = ($1 & 4294967295)::int::oid AND l.objsubid = 1
            """;
        await using var command = new NpgsqlCommand(Sql, connection) { Parameters = { new() { Value = LockKey } } };
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        return await reader.ReadAsync()
            ? $"pid {reader.GetInt32(0)} ({reader.GetString(1)}, connected {reader.GetInt32(2)} s)"
            : "a session that has just released it";
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

    /// <summary>Whether PostgreSQL takes <paramref name="value"/> as a finite timeout once rendered by <see cref="Interval"/>.</summary>
    internal static bool IsValidTimeout(TimeSpan value) => value >= TimeSpan.FromMilliseconds(1) && value.TotalMilliseconds <= int.MaxValue;

    /// <summary>The migrator's session, its backend's pid, and the second session that watches it.</summary>
    private sealed record Session(NpgsqlConnection Connection, int Pid, LockObserver Observer);
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Coderd.Database.Migrations;

/// <summary>
/// Applies, rolls back, reports and scripts the schema history, safely when many deployment jobs
/// start at once, straight to PostgreSQL or through a transaction-pooling PgBouncer. Each migration
/// runs in one transaction that takes a transaction-level advisory lock, re-reads the applied
/// versions under it and only then decides whether the migration is still the next one; its
/// <c>search_path</c>, <c>lock_timeout</c> and <c>statement_timeout</c> are set inside it, and
/// nothing is set for the session. A lock timeout is retried within a time budget, waiting without
/// queueing for the transaction that blocked it; cancellation rolls back. Never leaves a migration
/// half applied.
/// </summary>
public sealed class SchemaMigrator
{
    /// <summary>
    /// The schema the migrations build, and where the version table is. Not configurable: the
    /// runner pins <c>search_path</c> to <c>pg_catalog, public</c> in every transaction it runs.
    /// </summary>
    public const string Schema = "public";

    /// <summary>The runner's version table in <see cref="Schema"/>: one row per applied migration.</summary>
    public const string VersionTable = "schema_version";

    /// <summary>The advisory lock key: "code" and "rddb" as two 32-bit halves, so pg_locks shows it readably.</summary>
    internal const long LockKey = (0x636F6465L << 32) | 0x72646462L;

    /// <summary>The oldest server supported, as <c>server_version_num</c>: PostgreSQL 13.</summary>
    internal const int MinimumServerVersion = 13_00_00;

    /// <summary>
    /// How much longer than <see cref="MigratorOptions.StatementTimeout"/> the client waits for the
    /// server's next answer before it gives the connection up: the server's own timeout fires first
    /// unless the server (or the network) is frozen.
    /// </summary>
    internal static readonly TimeSpan ClientDeadlineMargin = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LockPollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>A wait for the lock shorter than this is the normal turn-taking of racing jobs: not logged.</summary>
    private static readonly TimeSpan LockReportAfter = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan LockReportInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a session's first query goes unanswered before the runner asks whether a pooler
    /// queues it (at most a quarter of the command timeout); then asked again with each report.
    /// </summary>
    private static readonly TimeSpan QueueProbeAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the probe's own query may go unanswered before it counts as queued too: a server,
    /// or a pooler whose server is gone, answers or refuses it in milliseconds.
    /// </summary>
    private static readonly TimeSpan QueueProbeAnswerWithin = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the migrator's idle session asks whether a blocking transaction has ended.</summary>
    private static readonly TimeSpan BlockerPollInterval = TimeSpan.FromMilliseconds(100);

    private readonly MigratorOptions _options;
    private NpgsqlDataSource? _dataSource;
    private NpgsqlDataSource? _probeSource;

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
    /// <exception cref="MigrationException">Cannot connect, the server is unsupported, or the version table is another tool's.</exception>
    public Task<MigrationStatus> StatusAsync(CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await OpenAsync(cancellationToken);
            var server = await ReadServerAsync(connection, cancellationToken);
            return await ReadStatusAsync(connection, server, cancellationToken);
        }, cancellationToken);

    /// <summary>Applies the pending migrations up to <paramref name="to"/> (all when null), each in its own transaction.</summary>
    /// <returns>The migrations this run applied, in order; empty when the database was up to date (or another migrator brought it there).</returns>
    /// <exception cref="MigrationException">See <see cref="MigrationError"/>; earlier migrations stay applied.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the running migration was rolled back.</exception>
    public async Task<IReadOnlyList<AppliedMigration>> UpAsync(long? to = null, CancellationToken cancellationToken = default)
    {
        var target = to ?? LatestVersion;
        if (to is not null) RequireKnown(to.Value, allowZero: false);

        return await GuardAsync(async () =>
        {
            await using var run = await StartWritingAsync(cancellationToken);
            var status = await ReadStatusAsync(run.Connection, run.Server, cancellationToken);
            if (AcceptNewer(status)) return [];
            RefuseUnknown(status, suggestAllowNewer: true);
            var applied = status.Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version).ToHashSet();
            var pending = Migrations.Where(m => !applied.Contains(m.Version) && m.Version <= target).ToList();
            var newestApplied = applied.Count == 0 ? 0 : applied.Max();
            var late = pending.FirstOrDefault(m => m.Version < newestApplied);
            if (late is not null) throw OlderThanApplied(late, newestApplied);

            if (pending.Count == 0)
            {
                _options.Log.WriteLine($"Database is up to date at version {newestApplied}.");
                return [];
            }

            using var stopRendering = new CancellationTokenSource();
            var bodies = RenderAhead(pending, stopRendering.Token);
            if (!run.Server.HasVersionTable) await CreateVersionTableAsync(run, cancellationToken);
            var done = new List<AppliedMigration>(pending.Count);
            try
            {
                for (var i = 0; i < pending.Count; i++)
                {
                    if (await RunAsync(run, pending[i], await bodies[i], applied, cancellationToken) is { } result) done.Add(result);
                }
            }
            finally
            {
                await stopRendering.CancelAsync();
            }

            var skipped = pending.Count - done.Count;
            if (done.Count == 0)
            {
                _options.Log.WriteLine($"Database is up to date at version {pending[^1].Version}: another migrator applied the pending migrations meanwhile.");
            }
            else if (skipped > 0)
            {
                _options.Log.WriteLine($"Another migrator applied {skipped} of the pending migrations meanwhile.");
            }

            return done;
        }, cancellationToken);
    }

    /// <summary>Rolls back every applied migration newer than <paramref name="to"/> (0 = all), newest first.</summary>
    /// <returns>The migrations this run rolled back, in the order it did.</returns>
    /// <exception cref="MigrationException">See <see cref="MigrationError"/>; migrations already rolled back stay so.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the running rollback was itself rolled back.</exception>
    public async Task<IReadOnlyList<AppliedMigration>> DownAsync(long to, CancellationToken cancellationToken = default)
    {
        RequireKnown(to, allowZero: true);
        return await GuardAsync(async () =>
        {
            await using var run = await StartWritingAsync(cancellationToken);
            var status = await ReadStatusAsync(run.Connection, run.Server, cancellationToken);
            RefuseUnknown(status);
            var applied = status.Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version).ToHashSet();
            var undo = Migrations.Where(m => applied.Contains(m.Version) && m.Version > to).Reverse().ToList();
            if (undo.Count == 0) _options.Log.WriteLine($"Nothing to roll back: no applied migration is newer than {to}.");
            var done = new List<AppliedMigration>(undo.Count);
            foreach (var migration in undo)
            {
                if (await RunAsync(run, migration, TransactionBody(migration, up: false), applied: null, cancellationToken) is { } result) done.Add(result);
            }

            if (done.Count < undo.Count) _options.Log.WriteLine($"Another migrator rolled back {undo.Count - done.Count} of them meanwhile.");
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
    public Task<SchemaVerification> VerifyAsync(CancellationToken cancellationToken = default) =>
        GuardAsync(async () =>
        {
            await using var connection = await OpenAsync(cancellationToken);
            var server = await ReadServerAsync(connection, cancellationToken);
            var status = await ReadStatusAsync(connection, server, cancellationToken);
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
        }, cancellationToken);

    /// <summary>
    /// The SQL that <see cref="UpAsync"/> runs for the migrations after <paramref name="from"/> up to
    /// <paramref name="to"/>, as a psql script: the version table, then one transaction per
    /// migration, each taking the migration lock. Needs no database.
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
        sql.Append("-- Generated by coderd-db script: what `coderd-db up` runs, one transaction per migration, each under the migration lock.\n");
        // What up runs when the database has no version table yet.
        sql.Append("BEGIN;\n").Append(RunnerSql.PinSearchPath).Append(";\n").Append(RunnerSql.Lock).Append(";\n")
            .Append(RunnerSql.CreateVersionTable).Append(";\nCOMMIT;\n");
        foreach (var migration in migrations)
        {
            sql.Append(CultureInfo.InvariantCulture, $"\n-- {migration.Version}: {migration.Description}\nBEGIN;\n");
            sql.Append(RunnerSql.PinSearchPath).Append(";\n").Append(RunnerSql.Lock).Append(";\n");
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

        return sql.ToString();
    }

    /// <summary>The lock timeout a migration runs with: its own, else the runner's.</summary>
    internal TimeSpan LockTimeoutOf(MigrationInfo migration) => migration.LockTimeout ?? _options.LockTimeout;

    /// <summary>
    /// What a migration's transaction runs once it holds the lock and has decided to go ahead:
    /// its timeouts, its statements and its version row.
    /// </summary>
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
                $"INSERT INTO {RunnerSql.QualifiedVersionTable} (version, description) VALUES ({migration.Version}, {Literal(migration.Description)})")
            : string.Create(CultureInfo.InvariantCulture, $"DELETE FROM {RunnerSql.QualifiedVersionTable} WHERE version = {migration.Version}"));
        return body;
    }

    /// <summary>
    /// Runs one migration (or its rollback) in a transaction of its own that holds the migration
    /// lock; retries a lock timeout within the budget. Returns null when, under the lock, another
    /// migrator turns out to have done it already.
    /// </summary>
    /// <remarks>
    /// <c>body</c> is <see cref="TransactionBody"/>'s. For up, <c>applied</c> holds the versions this
    /// run believes applied, and this method keeps it up to date. While the database agrees, each
    /// attempt is one round trip (<see cref="ExecuteAtOnceAsync"/>). Down (null) reads the versions
    /// under the lock first, so that a rollback's statements are logged only once it is sure to run them.
    /// </remarks>
    private async Task<AppliedMigration?> RunAsync(
        Run run, MigrationInfo migration, IReadOnlyList<string> body, HashSet<long>? applied, CancellationToken cancellationToken)
    {
        var up = applied is not null;
        var lockTimeout = LockTimeoutOf(migration);
        var budget = _options.LockRetryBudget;
        var watch = Stopwatch.StartNew();
        var slow = applied is null;
        for (var attempt = 1; ; attempt++)
        {
            // At once only while the versions this run knows make the migration the next one: the
            // guard then checks, under the lock, that the database has exactly those.
            var atOnce = !slow && IsNextUp(migration, applied!);
            slow = applied is null;
            Task<bool> execution;
            int? pid = null;
            if (atOnce)
            {
                execution = ExecuteAtOnceAsync(run.Connection, run.Server, body, applied, ClientDeadlineSeconds, cancellationToken);
            }
            else
            {
                var locked = await BeginLockedAsync(run, readVersions: true, cancellationToken);
                try
                {
                    if (applied is not null)
                    {
                        applied.Clear();
                        applied.UnionWith(locked.Applied);
                    }

                    if (!IsNext(migration, up, locked.Applied))
                    {
                        await locked.Transaction.DisposeAsync();
                        return null;
                    }
                }
                catch
                {
                    await locked.Transaction.DisposeAsync();
                    throw;
                }

                if (!up && attempt == 1)
                {
                    // A rollback drops things: say exactly what before doing it.
                    _options.Log.WriteLine($"Rolling back {migration.Version} {migration.Description}:");
                    foreach (var statement in body.Skip(2).SkipLast(1)) _options.Log.WriteLine($"    {statement};");
                }

                pid = locked.Pid;
                execution = ExecuteBodyAsync(run.Connection, locked.Transaction, body, cancellationToken);
            }

            var wait = await WatchAsync(run.Observer, pid, execution, lockTimeout, cancellationToken);
            try
            {
                if (await execution) break;
                // The guard said not now (another migrator holds the lock, or has moved the history):
                // the same attempt again, the slow way, which waits for the lock and reads the versions.
                slow = true;
                attempt--;
                continue;
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
                var open = await WaitForTransactionsAsync(run.Connection, migration, waitFor, watch, cancellationToken);
                if (open.Count > 0)
                {
                    throw LockFailure(migration, e, waitedFor, open, string.Create(CultureInfo.InvariantCulture,
                        $"still open after {attempt} attempt(s) and the lock retry budget of {budget.TotalSeconds:0.###} s"));
                }
            }
            catch (Exception e) when (IsConnectionLoss(e) && !cancellationToken.IsCancellationRequested)
            {
                throw ConnectionLost(e, migration);
            }
            catch (PostgresException e)
            {
                throw new MigrationException(MigrationError.MigrationFailed,
                    $"Migration {migration.Version} ({migration.Description}) failed and was rolled back: " +
                    $"{e.SqlState}: {e.MessageText}{InStatement(e)}. Earlier migrations stay applied; fix the cause and run again.", e);
            }
        }

        applied?.Add(migration.Version);
        var result = new AppliedMigration(migration.Version, migration.Description, watch.Elapsed);
        // One line per migration, written when it is done: a deployment log reads as the list of what changed.
        _options.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(up ? "Applied" : "Rolled back")} {migration.Version} {migration.Description} ({result.Duration.TotalMilliseconds:0} ms)"));
        return result;
    }

    /// <summary>
    /// The up bodies of <paramref name="migrations"/>, rendered one after the other on a thread of
    /// their own: rendering is this process's work, executing the server's, so the next migration
    /// is rendered while the server runs the current one. Rendering stops at the first failure
    /// (that migration's task holds it) or when <paramref name="stop"/> is cancelled.
    /// </summary>
    private IReadOnlyList<Task<IReadOnlyList<string>>> RenderAhead(List<MigrationInfo> migrations, CancellationToken stop)
    {
        var bodies = migrations.Select(_ => new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously)).ToList();
        _ = Task.Run(() =>
        {
            var i = 0;
            for (; i < migrations.Count && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    bodies[i].SetResult(TransactionBody(migrations[i], up: true));
                }
                catch (Exception e)
                {
                    bodies[i].SetException(e);
                    i++;
                    break;
                }
            }

            for (; i < migrations.Count; i++) bodies[i].SetCanceled(stop);
        }, CancellationToken.None);
        return [.. bodies.Select(b => b.Task)];
    }

    /// <summary>
    /// Decides, under the lock and from the versions read under it, whether <paramref name="migration"/>
    /// is still the next step: for up, every earlier migration applied, this one not and nothing
    /// newer; for down, this one applied and nothing newer. False when another migrator already did it.
    /// </summary>
    /// <exception cref="MigrationException">Another migrator moved the history the other way meanwhile.</exception>
    private bool IsNext(MigrationInfo migration, bool up, IReadOnlySet<long> applied)
    {
        var newer = applied.Where(v => v > migration.Version).DefaultIfEmpty().Max();
        if (up)
        {
            if (applied.Contains(migration.Version)) return false;
            if (newer != 0) throw OlderThanApplied(migration, newer);
            var missing = Migrations.FirstOrDefault(m => m.Version < migration.Version && !applied.Contains(m.Version));
            if (missing is null) return true;
            throw new MigrationException(MigrationError.HistoryChanged,
                $"Another migrator rolled back {missing.Version} ({missing.Description}) while this run was applying later migrations, " +
                $"so {migration.Version} was not applied; let it finish, then run up again.");
        }

        if (!applied.Contains(migration.Version)) return false;
        if (newer == 0) return true;
        throw new MigrationException(MigrationError.HistoryChanged,
            $"Another migrator applied {newer} while this run was rolling back, so {migration.Version} was not rolled back; let it finish, then run down again.");
    }

    /// <summary>What <see cref="IsNext"/> answers true to for up, without deciding the other cases.</summary>
    private bool IsNextUp(MigrationInfo migration, HashSet<long> applied) =>
        !applied.Contains(migration.Version)
        && applied.All(v => v < migration.Version)
        && Migrations.TakeWhile(m => m.Version < migration.Version).All(m => applied.Contains(m.Version));

    private static MigrationException OlderThanApplied(MigrationInfo migration, long newestApplied) =>
        new(MigrationError.OutOfOrder,
            $"Migration {migration.Version} ({migration.Description}) is older than the applied migration {newestApplied}; " +
            "give it a version after the newest applied one.");

    /// <summary>
    /// Opens a transaction holding the migration lock (a transaction-level advisory lock, so it is
    /// released by COMMIT or ROLLBACK on the backend that took it, pooler or not), with the search
    /// path pinned and, when asked, the applied versions read under the lock. Polls while another
    /// migrator holds it, for at most <see cref="MigratorOptions.LockWait"/>, naming the holder.
    /// </summary>
    private async Task<LockedTransaction> BeginLockedAsync(Run run, bool readVersions, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var nextReport = LockReportAfter;
        while (true)
        {
            var transaction = await run.Connection.BeginTransactionAsync(cancellationToken);
            try
            {
                await using var batch = new NpgsqlBatch(run.Connection, transaction);
                batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.PinSearchPath));
                if (run.Server.VersionNumber >= 14_00_00) batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.CheckClientConnection));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.TryLock));
                if (readVersions) batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.ReadVersions));
                int pid;
                bool locked;
                var applied = new HashSet<long>();
                await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
                {
                    // SET returns no result set: the first one is the lock's.
                    await reader.ReadAsync(cancellationToken);
                    pid = reader.GetInt32(0);
                    locked = reader.GetBoolean(1);
                    if (readVersions && await reader.NextResultAsync(cancellationToken))
                    {
                        while (await reader.ReadAsync(cancellationToken)) applied.Add(reader.GetInt64(0));
                    }
                }

                if (locked) return new LockedTransaction(transaction, pid, applied);
            }
            catch
            {
                await transaction.DisposeAsync();
                throw;
            }

            // Rolled back: nothing is held while waiting, not even a pooled server connection.
            await transaction.DisposeAsync();
            if (watch.Elapsed >= _options.LockWait)
            {
                var holder = await DescribeLockHolderAsync(run.Connection);
                throw new MigrationException(MigrationError.LockWaitTimeout, string.Create(CultureInfo.InvariantCulture,
                    $"Timed out after {_options.LockWait.TotalSeconds:0.#} s waiting for the migration lock, held by {holder}; let that migrator finish, or raise --lock-wait."));
            }

            if (watch.Elapsed >= nextReport)
            {
                var holder = await DescribeLockHolderAsync(run.Connection);
                _options.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Waiting for the migration lock ({watch.Elapsed.TotalSeconds:0} s), held by {holder}"));
                nextReport += LockReportInterval;
            }

            await Task.Delay(LockPollInterval, cancellationToken);
        }
    }

    /// <summary>Creates the version table under the migration lock, so that racing first runs do not collide.</summary>
    private async Task CreateVersionTableAsync(Run run, CancellationToken cancellationToken)
    {
        if (await ExecuteAtOnceAsync(run.Connection, run.Server, [RunnerSql.CreateVersionTable], applied: null, run.Connection.CommandTimeout, cancellationToken)) return;

        var locked = await BeginLockedAsync(run, readVersions: false, cancellationToken);
        await using (locked.Transaction)
        {
            await using (var command = new NpgsqlCommand(RunnerSql.CreateVersionTable, run.Connection, locked.Transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await locked.Transaction.CommitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Looks from a second session, while the transaction runs, at what its statement is queued for:
    /// first halfway through the lock timeout (a migration that finishes sooner is never looked at),
    /// then often enough to catch the wait before it times out. Returns the last wait seen, if any.
    /// </summary>
    private static async Task<LockWait?> WatchAsync(LockObserver observer, int? pid, Task execution, TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        var delay = Clamp(lockTimeout / 2, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(250));
        var interval = Clamp(lockTimeout / 10, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100));
        LockWait? seen = null;
        while (!cancellationToken.IsCancellationRequested
               && await Task.WhenAny(execution, Task.Delay(delay, CancellationToken.None)) != execution)
        {
            seen = await observer.ObserveAsync(pid) ?? seen;
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

    /// <summary>
    /// Seconds the client waits for the server's next answer while a migration runs:
    /// <see cref="MigratorOptions.StatementTimeout"/> plus <see cref="ClientDeadlineMargin"/>; 0
    /// (none) when there is no statement timeout either.
    /// </summary>
    internal int ClientDeadlineSeconds =>
        _options.StatementTimeout == TimeSpan.Zero
            ? 0
            : (int)Math.Min(int.MaxValue, Math.Ceiling((_options.StatementTimeout + ClientDeadlineMargin).TotalSeconds));

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction sent as one batch, so in one round trip: BEGIN,
    /// the pinned search path, the lock taken and the applied versions checked under it
    /// (<see cref="RunnerSql.Guard"/>; the versions only when <paramref name="applied"/> is given),
    /// the body, COMMIT. False, after rolling back, when the guard refused (the lock was busy, or
    /// the versions were not <paramref name="applied"/>): the caller then takes the slow path, which
    /// waits for the lock and decides from the versions it reads. The client waits
    /// <paramref name="timeoutSeconds"/> for each answer.
    /// </summary>
    /// <remarks>
    /// The server sends nothing back before the batch ends, so the backend's pid is not known while
    /// the body runs: the observer finds the backend as the holder of the migration lock.
    /// </remarks>
    private static async Task<bool> ExecuteAtOnceAsync(
        NpgsqlConnection connection, ServerInfo server, IReadOnlyList<string> body, IReadOnlySet<long>? applied, int timeoutSeconds, CancellationToken cancellationToken)
    {
        // Npgsql sends the BEGIN with the batch, and knows from the server's answer whether the
        // COMMIT at the end of the batch ended the transaction: disposing rolls back only if not.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = timeoutSeconds };
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.PinSearchPath));
        if (server.VersionNumber >= 14_00_00) batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.CheckClientConnection));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.Guard(applied)));
        foreach (var statement in body) batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RunnerSql.Commit));
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (Exception e)
        {
            await RollbackAsync(connection, transaction, e);
            if (e is PostgresException { SqlState: RunnerSql.NotNowSqlState }) return false;
            throw;
        }
    }

    /// <summary>
    /// Rolls back after <paramref name="error"/>, unless the session is gone: after a lost connection
    /// or a client-side timeout it is given up, and the server rolls back a transaction whose
    /// client has gone. Npgsql knows whether the transaction is still open (a failed COMMIT ended it).
    /// </summary>
    private static async Task RollbackAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Exception error)
    {
        if (IsConnectionLoss(error) || connection.State != System.Data.ConnectionState.Open) return;
        try
        {
            await transaction.DisposeAsync();
        }
        catch (NpgsqlException)
        {
            // The connection broke under the rollback: the server rolls back on its own.
        }
    }

    /// <summary>
    /// The migration's statements in one round trip, COMMIT in another, inside the locked
    /// transaction; any failure rolls back all of them, the lock with them.
    /// </summary>
    private async Task<bool> ExecuteBodyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<string> body, CancellationToken cancellationToken)
    {
        await using (transaction)
        {
            try
            {
                await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = ClientDeadlineSeconds };
                foreach (var statement in body) batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
                await batch.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return true;
            }
            catch (Exception e)
            {
                await RollbackAsync(connection, transaction, e);
                throw;
            }
        }
    }

    /// <summary>Opens the session for up or down, refusing a server that cannot take writes before anything is locked.</summary>
    private async Task<Run> StartWritingAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            var server = await ReadServerAsync(connection, cancellationToken);
            if (server.InRecovery)
            {
                throw new MigrationException(MigrationError.StandbyServer,
                    "The server is a hot standby (in recovery) and cannot take schema changes; point the connection at the primary " +
                    "(with several hosts, add Target Session Attributes=read-write).");
            }

            return new Run(connection, server, new LockObserver(_dataSource!));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The server's version and role, and the state of the version table; refuses a server older
    /// than PostgreSQL 13 and a <c>public.schema_version</c> that is not this runner's.
    /// </summary>
    /// <remarks>
    /// The same round trip reads who else may create objects in <see cref="Schema"/>, and warns
    /// once if anyone may (see <see cref="RunnerSql.SchemaCreators"/>).
    /// </remarks>
    private async Task<ServerInfo> ReadServerAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands = { new(RunnerSql.PinSearchPathInBatch), new(RunnerSql.Server), new(RunnerSql.VersionTableShape), new(RunnerSql.SchemaCreators) },
        };
        await using var reader = await FirstAnswerAsync(batch, cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var number = reader.GetInt32(0);
        var version = reader.GetString(1).Split(' ', 2)[0];
        var inRecovery = reader.GetBoolean(2);
        await reader.NextResultAsync(cancellationToken);
        string? kind = null;
        var columns = new List<(string Name, string Type)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            kind = reader.GetString(0);
            if (!reader.IsDBNull(1)) columns.Add((reader.GetString(1), reader.GetString(2)));
        }

        await reader.NextResultAsync(cancellationToken);
        var creators = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) creators.Add(reader.GetString(0));

        RequireSupported(number, version);
        if (kind is not null && (kind != "r" || !columns.SequenceEqual(RunnerSql.VersionColumns)))
        {
            var what = kind == "r" ? "a table" : "not a table";
            throw new MigrationException(MigrationError.ForeignVersionTable,
                $"{RunnerSql.QualifiedVersionTable} is not this tool's version table: it is {what} with columns ({string.Join(", ", columns.Select(c => c.Name))}) " +
                $"where this tool keeps ({string.Join(", ", RunnerSql.VersionColumns.Select(c => $"{c.Name} {c.Type}"))}), perhaps another migration tool's; " +
                "give coderd a database of its own, or rename that table if nothing uses it.");
        }

        if (creators.Count > 0)
        {
            // A warning, not a refusal: PostgreSQL 13 and 14 grant this to PUBLIC by default.
            var grantees = string.Join(", ", creators);
            Warnings.WriteLine(
                $"Warning: schema {Schema} grants CREATE to {grantees} (besides its owner and the migrating role): they could plant a look-alike " +
                "function or operator that the migrations or coderd would bind to; " +
                $"run `REVOKE CREATE ON SCHEMA {Schema} FROM {grantees};` as its owner or a superuser (PostgreSQL 15 and later grant it to the owner only by default).");
        }

        return new ServerInfo(number, version, inRecovery, HasVersionTable: kind is not null);
    }

    /// <summary>
    /// Sends a session's first query and waits for its answer. A pooler logs a client in without a
    /// server connection and queues its first query until one is free (PgBouncer in session mode,
    /// every server connection of the pool taken): no answer, just as from a server that is gone.
    /// Once the answer is late, the runner opens a second session and asks it something (see
    /// <see cref="QueuedAlikeAsync"/>): a pooler that only queues logs it in at once and queues its
    /// query too; a pooler whose server is gone fails the query, a server that is gone does not log
    /// it in, and a server that answers other sessions answers it. Only the first is a queue, waited
    /// for within <see cref="MigratorOptions.LockWait"/> like the migration lock, and reported
    /// likewise; anything else is given up after the connection's command timeout, as before, as a
    /// lost connection.
    /// </summary>
    /// <exception cref="MigrationException">
    /// <see cref="MigrationError.LockWaitTimeout"/> after a queue outlasting the lock wait;
    /// <see cref="MigrationError.ConnectionLost"/> after the command timeout otherwise.
    /// </exception>
    private async Task<NpgsqlDataReader> FirstAnswerAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var commandTimeoutSeconds = batch.Connection!.CommandTimeout;
        TimeSpan? commandTimeout = commandTimeoutSeconds == 0 ? null : TimeSpan.FromSeconds(commandTimeoutSeconds);
        // The deadline is kept here: it depends on what the wait turns out to be.
        batch.Timeout = 0;
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var answer = batch.ExecuteReaderAsync(giveUp.Token);
        var watch = Stopwatch.StartNew();
        using var stopProbing = new CancellationTokenSource();
        Task<bool>? probe = null;
        var queued = false;
        // Early enough to be decided well within a short command timeout.
        var nextProbe = commandTimeout is { } timeout && timeout / 4 < QueueProbeAfter ? timeout / 4 : QueueProbeAfter;
        try
        {
            while (true)
            {
                var deadline = queued ? _options.LockWait : commandTimeout;
                var elapsed = watch.Elapsed;
                if (elapsed >= deadline) break;
                var wake = probe is null ? nextProbe : deadline;
                if (deadline < wake) wake = deadline;
                var waits = new List<Task>(3) { answer };
                if (probe is not null) waits.Add(probe);
                if (wake is { } w) waits.Add(Task.Delay(w > elapsed ? w - elapsed : TimeSpan.Zero, CancellationToken.None));
                await Task.WhenAny(waits);
                if (answer.IsCompleted) return await answer;
                if (probe is { IsCompleted: true })
                {
                    // Asked again with each report: a server that goes away meanwhile ends the wait.
                    queued = await probe;
                    probe = null;
                    nextProbe = watch.Elapsed + LockReportInterval;
                    if (queued)
                    {
                        _options.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"Waiting for a server connection ({watch.Elapsed.TotalSeconds:0} s): the pooler accepted the session but queues its first query, " +
                            $"every server connection of its pool taken; waiting up to the lock wait ({_options.LockWait.TotalSeconds:0.#} s)"));
                    }
                }
                else if (probe is null && watch.Elapsed >= nextProbe)
                {
                    probe = QueuedAlikeAsync(stopProbing.Token);
                }
            }
        }
        finally
        {
            await stopProbing.CancelAsync();
            if (probe is not null) await probe;
        }

        // Npgsql cancels the query and gives the session up.
        await giveUp.CancelAsync();
        try
        {
            await (await answer).DisposeAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or NpgsqlException)
        {
        }

        if (queued)
        {
            throw new MigrationException(MigrationError.LockWaitTimeout, string.Create(CultureInfo.InvariantCulture,
                $"The pooler gave no server connection within {_options.LockWait.TotalSeconds:0.#} s: it accepted the session but kept its first query queued, " +
                $"every server connection of its pool taken by other sessions; let them finish, give the pool more server connections " +
                $"(PgBouncer's default_pool_size), or raise --lock-wait, then run again."));
        }

        throw ConnectionLost(string.Create(CultureInfo.InvariantCulture, $"no answer within the command timeout of {commandTimeoutSeconds} s"), migration: null, error: null);
    }

    /// <summary>
    /// Whether a new session is queued like this one: logged in, its query unanswered for
    /// <see cref="QueueProbeAnswerWithin"/>. False when it answers (the server answers other
    /// sessions), is refused (a pooler whose server is gone fails it: PgBouncer's "server login
    /// has been failing"), or cannot log in (a server that is gone). Never throws.
    /// </summary>
    private async Task<bool> QueuedAlikeAsync(CancellationToken cancellationToken)
    {
        // No wait for an answer to the cancel request: the probe's session is given up at once.
        _probeSource ??= CreateDataSource(new NpgsqlConnectionStringBuilder(SessionConnectionString(_options.ConnectionString))
        {
            CancellationTimeout = -1,
        }.ConnectionString);
        NpgsqlConnection? session = null;
        try
        {
            session = await _probeSource.OpenConnectionAsync(cancellationToken);
            using var answerWithin = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            answerWithin.CancelAfter(QueueProbeAnswerWithin);
            await using var command = new NpgsqlCommand(RunnerSql.Probe, session);
            await command.ExecuteScalarAsync(answerWithin.Token);
            return false;
        }
        catch (OperationCanceledException) when (session is not null && !cancellationToken.IsCancellationRequested)
        {
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or OperationCanceledException)
        {
            return false;
        }
        finally
        {
            if (session is not null) await session.DisposeAsync();
        }
    }

    /// <summary>Where warnings go: <see cref="MigratorOptions.Warnings"/>, else the log.</summary>
    private TextWriter Warnings => _options.Warnings ?? _options.Log;

    /// <summary>Refuses a server older than <see cref="MinimumServerVersion"/>.</summary>
    internal static void RequireSupported(int serverVersionNumber, string serverVersion)
    {
        if (serverVersionNumber >= MinimumServerVersion) return;
        throw new MigrationException(MigrationError.UnsupportedServer,
            $"The server runs PostgreSQL {serverVersion}; this schema needs PostgreSQL 13 or newer: upgrade the server, or point the connection at one that is.");
    }

    private async Task<MigrationStatus> ReadStatusAsync(NpgsqlConnection connection, ServerInfo server, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<long, (string Description, DateTimeOffset AppliedAt)>();
        if (server.HasVersionTable)
        {
            await using var batch = new NpgsqlBatch(connection) { BatchCommands = { new(RunnerSql.PinSearchPathInBatch), new(RunnerSql.ReadHistory) } };
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied[reader.GetInt64(0)] = (reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
            }
        }

        var states = Migrations
            .Select(m => new MigrationState(m.Version, m.Description,
                applied.TryGetValue(m.Version, out var a) ? a.AppliedAt : null, Known: true))
            .Concat(applied.Where(a => Migrations.All(m => m.Version != a.Key))
                .Select(a => new MigrationState(a.Key, a.Value.Description, a.Value.AppliedAt, Known: false)))
            .OrderBy(s => s.Version)
            .ToList();
        return new MigrationStatus(server.Version, states);
    }

    /// <summary>Who holds the migration lock, for the waiting message; never throws for what the catalog hides.</summary>
    private static async Task<string> DescribeLockHolderAsync(NpgsqlConnection connection)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new(RunnerSql.PinSearchPathInBatch),
                new(RunnerSql.LockHolder),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(CancellationToken.None);
        await reader.NextResultAsync();
        if (!await reader.ReadAsync()) return "a session that has just released it";
        if (reader.IsDBNull(0))
        {
            return BlockingSession.DescribePrepared(
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : TimeSpan.FromSeconds(reader.GetDouble(5)));
        }

        var application = reader.IsDBNull(1) || reader.GetString(1).Length == 0 ? "no application_name" : reader.GetString(1);
        var state = reader.IsDBNull(2) ? "state unknown" : reader.GetString(2);
        var age = reader.IsDBNull(3)
            ? "connection age unknown"
            : string.Create(CultureInfo.InvariantCulture, $"connected {reader.GetDouble(3):0} s");
        return string.Create(CultureInfo.InvariantCulture, $"pid {reader.GetInt32(0)} ({application}, {state}, {age})");
    }

    /// <summary>
    /// With <see cref="MigratorOptions.AllowNewer"/>: true, after a one-line warning, when the
    /// versions this build does not know are all newer than its own and all of its own are applied.
    /// </summary>
    private bool AcceptNewer(MigrationStatus status)
    {
        var unknown = status.Unknown.Select(m => m.Version).ToList();
        if (!_options.AllowNewer || unknown.Count == 0 || unknown.Any(v => v < LatestVersion) || status.Pending.Any()) return false;
        Warnings.WriteLine(
            $"Warning: the database is ahead of this build: it has applied {string.Join(", ", unknown)}, newer than this build's newest ({LatestVersion}), " +
            "and every migration of this build; nothing to do (newer versions allowed).");
        return true;
    }

    private void RefuseUnknown(MigrationStatus status, bool suggestAllowNewer = false)
    {
        var unknown = status.Unknown.Select(m => m.Version).ToList();
        if (unknown.Count == 0) return;
        var strictlyAhead = unknown.All(v => v > LatestVersion) && !status.Pending.Any();
        throw new MigrationException(MigrationError.DatabaseAhead,
            $"The database has applied migration(s) {string.Join(", ", unknown)} that this build does not know " +
            $"(its newest is {LatestVersion}); run a build that has them" +
            (suggestAllowNewer && strictlyAhead ? ", or pass --allow-newer if this is an older release starting after a newer one migrated." : "."));
    }

    private void RequireKnown(long version, bool allowZero)
    {
        if ((allowZero && version == 0) || Migrations.Any(m => m.Version == version)) return;
        throw new MigrationException(MigrationError.UnknownVersion,
            $"Version {version} is not a migration of this build; use {(allowZero ? "0 or " : "")}one that `status` lists.");
    }

    /// <summary>The connection string the runner's sessions use: unpooled, with TCP keepalives.</summary>
    internal static string SessionConnectionString(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // A session of its own: a pooled connection could carry state from elsewhere.
            Pooling = false,
            Enlist = false,
            // A peer that vanished (host down, network cut) is noticed within a minute even while a
            // statement runs; the client deadline covers a server that is up but does not answer.
            TcpKeepAlive = true,
        };
        if (builder.TcpKeepAliveTime == 0) builder.TcpKeepAliveTime = 30;
        if (builder.TcpKeepAliveInterval == 0) builder.TcpKeepAliveInterval = 10;
        builder.ApplicationName ??= "coderd-db";
        return builder.ConnectionString;
    }

    /// <summary>
    /// Unpooled, so it holds no connections or timers and needs no disposing. The runner's queries
    /// read only built-in types, so the catalog query Npgsql runs on a first connection to learn
    /// the database's types is pure start-up cost, which a CLI would pay on every run.
    /// </summary>
    private static NpgsqlDataSource CreateDataSource(string connectionString) =>
        new NpgsqlDataSourceBuilder(connectionString).ConfigureTypeLoading(types => types.EnableTypeLoading(false)).Build();

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        _dataSource ??= CreateDataSource(SessionConnectionString(_options.ConnectionString));
        var connection = _dataSource.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString);
            var where = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
            var reason = e is PostgresException p ? $"{p.SqlState}: {p.MessageText}" : (e.InnerException ?? e).Message;
            throw new MigrationException(MigrationError.ConnectionFailed,
                $"Cannot connect to PostgreSQL at {where}: {reason.TrimEnd('.')}. Check the connection string, that the server runs and that the credentials are right.", e);
        }
    }

    /// <summary>Turns a lost connection anywhere in <paramref name="work"/> into <see cref="MigrationError.ConnectionLost"/>.</summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (e is not MigrationException && IsConnectionLoss(e) && !cancellationToken.IsCancellationRequested)
        {
            throw ConnectionLost(e, migration: null);
        }
    }

    /// <summary>
    /// Whether <paramref name="error"/> means the session is gone: SQLSTATE class 08 (connection
    /// exception), an administrator or crash shutdown or a server starting up (57P01/57P02/57P03),
    /// or an Npgsql failure without a server error (broken socket, no answer in time).
    /// </summary>
    internal static bool IsConnectionLoss(Exception error) => error switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal)
                               || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException => true,
        _ => false,
    };

    private MigrationException ConnectionLost(Exception error, MigrationInfo? migration)
    {
        // A migration's statements wait for the client deadline; the runner's own queries for the
        // connection's command timeout (Npgsql's 30 s unless the connection string sets one).
        var reason = error switch
        {
            PostgresException p => $"{p.SqlState}: {p.MessageText}",
            { InnerException: TimeoutException } when migration is not null => string.Create(CultureInfo.InvariantCulture,
                $"no answer within {ClientDeadlineSeconds} s, the statement timeout plus {ClientDeadlineMargin.TotalSeconds:0} s"),
            { InnerException: TimeoutException } => string.Create(CultureInfo.InvariantCulture,
                $"no answer within the command timeout of {new NpgsqlConnectionStringBuilder(_options.ConnectionString).CommandTimeout} s"),
            _ => (error.InnerException ?? error).Message.TrimEnd('.'),
        };
        return ConnectionLost(reason, migration, error);
    }

    private static MigrationException ConnectionLost(string reason, MigrationInfo? migration, Exception? error)
    {
        var during = migration is null ? "" : $" during migration {migration.Version} ({migration.Description})";
        return new MigrationException(MigrationError.ConnectionLost,
            $"The server went away{during} ({reason}); each migration is atomic, so none is half applied: run again.", error);
    }

    internal static string Interval(TimeSpan value) =>
        value.TotalMilliseconds % 1000 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(long)value.TotalSeconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{(long)value.TotalMilliseconds}ms");

    private static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    private static string Shorten(string sql) => sql.Length <= 100 ? sql : sql[..97] + "...";

    /// <summary>Whether PostgreSQL takes <paramref name="value"/> as a finite timeout once rendered by <see cref="Interval"/>.</summary>
    internal static bool IsValidTimeout(TimeSpan value) => value >= TimeSpan.FromMilliseconds(1) && value.TotalMilliseconds <= int.MaxValue;

    /// <summary>What the server said about itself and the version table when the run started.</summary>
    private sealed record ServerInfo(int VersionNumber, string Version, bool InRecovery, bool HasVersionTable);

    /// <summary>A transaction that holds the migration lock, its backend's pid, and the versions it read under the lock.</summary>
    private sealed record LockedTransaction(NpgsqlTransaction Transaction, int Pid, IReadOnlySet<long> Applied);

    /// <summary>An up or down run: the migrator's session, the server, and the second session that watches for lock waits.</summary>
    private sealed class Run(NpgsqlConnection connection, ServerInfo server, LockObserver observer) : IAsyncDisposable
    {
        public NpgsqlConnection Connection => connection;

        public ServerInfo Server => server;

        public LockObserver Observer => observer;

        public async ValueTask DisposeAsync()
        {
            await observer.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}

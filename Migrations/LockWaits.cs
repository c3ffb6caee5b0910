using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace Coderd.Database.Migrations;

/// <summary>
/// A session whose transaction blocked a migration's statement, or a prepared transaction (which
/// belongs to no session: <c>pg_blocking_pids</c> says 0 for it). What <c>pg_stat_activity</c>
/// hides from a role that may not see another role's sessions (state, transaction start) is null
/// here. Its query text is never read: it can hold row values.
/// </summary>
/// <param name="Pid">The backend's process id; 0 for a prepared transaction.</param>
/// <param name="ApplicationName">Its <c>application_name</c>; null or empty when unset.</param>
/// <param name="State">Its state, e.g. <c>idle in transaction</c>; null when hidden.</param>
/// <param name="TransactionAge">How long its transaction has been open (a prepared one: since it was prepared); null when hidden.</param>
/// <param name="VirtualTransaction">Its transaction's virtual id, which names that transaction (not the session) while it lasts.</param>
/// <param name="PreparedAs">A prepared transaction's global id (<c>pg_prepared_xacts.gid</c>); null for a session.</param>
internal sealed record BlockingSession(int Pid, string? ApplicationName, string? State, TimeSpan? TransactionAge, string? VirtualTransaction, string? PreparedAs = null)
{
    public override string ToString()
    {
        if (Pid == 0) return DescribePrepared(PreparedAs, TransactionAge);
        var application = string.IsNullOrEmpty(ApplicationName) ? "no application_name" : ApplicationName;
        var age = TransactionAge is { } a
            ? string.Create(CultureInfo.InvariantCulture, $"transaction open {a.TotalSeconds:0.#} s")
            : "transaction age unknown";
        return string.Create(CultureInfo.InvariantCulture, $"pid {Pid} ({application}, {State ?? "state unknown"}, {age})");
    }

    /// <summary>
    /// A prepared transaction, which holds its locks until someone ends it by its id: it has no
    /// session to wait for, and waiting does not end it.
    /// </summary>
    public static string DescribePrepared(string? gid, TimeSpan? age)
    {
        var since = age is { } a ? string.Create(CultureInfo.InvariantCulture, $"prepared {a.TotalSeconds:0} s ago") : "prepared earlier";
        return gid is null
            ? $"a prepared transaction ({since}; pg_prepared_xacts lists it, COMMIT PREPARED or ROLLBACK PREPARED ends it)"
            : $"the prepared transaction {Quote(gid)} ({since}; it holds its locks until COMMIT PREPARED {Quote(gid)} or ROLLBACK PREPARED {Quote(gid)})";
    }

    /// <summary>A SQL string literal, as those statements take the id.</summary>
    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The sessions, longest transaction first, or what to say when there are none.</summary>
    public static string Describe(IReadOnlyList<BlockingSession> sessions) =>
        sessions.Count == 0 ? "a session not seen in time to be named" : string.Join(", ", sessions);

    /// <summary>Reads rows of (pid, application_name, state, transaction age in seconds, virtualxid, prepared gid) from column <paramref name="first"/> on.</summary>
    public static BlockingSession Read(NpgsqlDataReader reader, int first) => new(
        reader.GetInt32(first),
        reader.IsDBNull(first + 1) ? null : reader.GetString(first + 1),
        reader.IsDBNull(first + 2) ? null : reader.GetString(first + 2),
        reader.IsDBNull(first + 3) ? null : TimeSpan.FromSeconds(reader.GetDouble(first + 3)),
        reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5));
}

/// <summary>What a migration's statement was queued for, and the sessions ahead of it.</summary>
/// <param name="Lock">The lock, e.g. <c>AccessExclusiveLock on chats</c>.</param>
/// <param name="Blockers">The sessions <c>pg_blocking_pids</c> named, longest transaction first.</param>
internal sealed record LockWait(string Lock, IReadOnlyList<BlockingSession> Blockers);

/// <summary>
/// Looks at the migrator's session from a second session while a migration's transaction runs:
/// <c>pg_blocking_pids</c> only answers while the wait lasts, and afterwards a lock timeout says
/// neither which lock nor whose. Opens its connection on first use, so a run in which no statement
/// takes long costs nothing.
/// </summary>
internal sealed class LockObserver(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private const string SessionColumns =
        "a.application_name, a.state, extract(epoch FROM pg_catalog.now() - a.xact_start)::pg_catalog.float8";

    // A blocker pg_blocking_pids calls 0 is a prepared transaction: x is its lock on what the
    // migrator waits for (a prepared transaction's locks have no pid), p names it.
    // The scalar subqueries are one-time filters: pg_locks and pg_blocking_pids, which briefly lock
    // the lock manager, are read only while the session really waits for a lock. The migrator's
    // backend is $1, or, when the migrator could not ask (0: its transaction went in one round
    // trip, and the server answers only at its end), the holder of the migration lock, which
    // only that transaction can be while it runs; looked for only while some session of this
    // database waits for a lock. The relation is named as the pinned search path (pg_catalog,
    // public) renders it: unqualified in public.
    private static readonly string ObserveSql = $"""
        WITH me AS (
          SELECT COALESCE(NULLIF($1, 0), (
            SELECT h.pid FROM pg_catalog.pg_locks h
            WHERE EXISTS (SELECT FROM pg_catalog.pg_stat_activity w
                          WHERE w.wait_event_type = 'Lock' AND w.datname = pg_catalog.current_database())
              AND {RunnerSql.IsMigrationLock})) AS pid
        )
        SELECT l.locktype, l.relation::pg_catalog.regclass::pg_catalog.text, l.mode, b.pid,
          a.application_name, a.state, extract(epoch FROM pg_catalog.now() - COALESCE(a.xact_start, p.prepared))::pg_catalog.float8,
          v.virtualxid, p.gid
        FROM pg_catalog.pg_locks l
        CROSS JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(l.pid)) AS b(pid)
        LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b.pid
        LEFT JOIN pg_catalog.pg_locks v ON v.pid = b.pid AND v.locktype = 'virtualxid' AND v.granted
        LEFT JOIN pg_catalog.pg_locks x ON b.pid = 0 AND x.pid IS NULL AND x.granted
          AND x.locktype = l.locktype AND x.database IS NOT DISTINCT FROM l.database
          AND x.relation IS NOT DISTINCT FROM l.relation AND x.page IS NOT DISTINCT FROM l.page
          AND x.tuple IS NOT DISTINCT FROM l.tuple AND x.transactionid IS NOT DISTINCT FROM l.transactionid
          AND x.classid IS NOT DISTINCT FROM l.classid AND x.objid IS NOT DISTINCT FROM l.objid
          AND x.objsubid IS NOT DISTINCT FROM l.objsubid
        LEFT JOIN ({RunnerSql.PreparedTransactions}) p ON p.virtualtransaction = x.virtualtransaction
        WHERE (SELECT s.wait_event_type FROM pg_catalog.pg_stat_activity s WHERE s.pid = (SELECT me.pid FROM me)) = 'Lock'
          AND l.pid = (SELECT me.pid FROM me) AND NOT l.granted
        ORDER BY COALESCE(a.xact_start, p.prepared) NULLS LAST, b.pid
        """;

    // Every transaction holds the lock on its own virtual id until it ends.
    private const string StillOpenSql = $"""
        SELECT v.pid, {SessionColumns}, v.virtualxid, NULL::pg_catalog.text
        FROM pg_catalog.pg_locks v LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = v.pid
        WHERE v.locktype = 'virtualxid' AND v.granted AND v.virtualxid = ANY($1)
        ORDER BY a.xact_start NULLS LAST, v.pid
        """;

    /// <summary>
    /// How long a look may take. A server answers it in milliseconds; a session pooler whose server
    /// connections are all taken (one per job, the migrator's own) queues it unanswered, and the
    /// migration's outcome waits for the look: it is given up then, for the rest of the run.
    /// </summary>
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(2);

    private NpgsqlConnection? _connection;
    private bool _failed;

    /// <summary>
    /// What the session <paramref name="pid"/> (null: the one holding the migration lock) is queued
    /// for right now; null when it is not waiting for a lock.
    /// </summary>
    /// <remarks>Never throws for a database error: naming the blocker is a courtesy the migration's outcome never depends on.</remarks>
    public async Task<LockWait?> ObserveAsync(int? pid)
    {
        if (_failed) return null;
        try
        {
            using var within = new CancellationTokenSource(AnswerWithin);
            _connection ??= await dataSource.OpenConnectionAsync(within.Token);
            await using var batch = Pinned(_connection, ObserveSql, pid ?? 0);
            await using var reader = await batch.ExecuteReaderAsync(within.Token);
            await reader.NextResultAsync(within.Token);
            string? waitedFor = null;
            var blockers = new List<BlockingSession>();
            while (await reader.ReadAsync(within.Token))
            {
                waitedFor ??= reader.IsDBNull(1)
                    ? $"{reader.GetString(2)} on a {reader.GetString(0)}"
                    : $"{reader.GetString(2)} on {reader.GetString(1)}";
                var blocker = BlockingSession.Read(reader, 3);
                if (!blockers.Contains(blocker)) blockers.Add(blocker);
            }

            return waitedFor is null ? null : new LockWait(waitedFor, blockers);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or OperationCanceledException or InvalidOperationException or InvalidCastException)
        {
            // E.g. max_connections reached, or a pooler queueing this session; the migration goes on without names.
            _failed = true;
            return null;
        }
    }

    /// <summary>
    /// Those of <paramref name="sessions"/> whose blocking transaction is still open, with their
    /// state and age as of now. Asked from the migrator's own idle session: nothing queues.
    /// </summary>
    public static async Task<IReadOnlyList<BlockingSession>> StillOpenAsync(
        NpgsqlConnection connection, IReadOnlyList<BlockingSession> sessions, CancellationToken cancellationToken)
    {
        var transactions = sessions.Select(s => s.VirtualTransaction).OfType<string>().ToArray();
        if (transactions.Length == 0) return [];
        await using var batch = Pinned(connection, StillOpenSql, transactions);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var open = new List<BlockingSession>();
        while (await reader.ReadAsync(cancellationToken)) open.Add(BlockingSession.Read(reader, 0));
        return open;
    }

    /// <summary><paramref name="sql"/> with one parameter, after pinning the search path in the batch's implicit transaction.</summary>
    private static NpgsqlBatch Pinned(NpgsqlConnection connection, string sql, object parameter) => new(connection)
    {
        BatchCommands =
        {
            new(RunnerSql.PinSearchPathInBatch),
            new(sql) { Parameters = { new() { Value = parameter } } },
        },
    };

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }
}

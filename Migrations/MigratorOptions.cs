using System.Reflection;

namespace Coderd.Database.Migrations;

/// <summary>How <see cref="SchemaMigrator"/> connects, waits and logs. Defaults suit a deployment job.</summary>
public sealed record MigratorOptions
{
    /// <summary>The default of <see cref="LockWait"/>: 60 seconds.</summary>
    public static readonly TimeSpan DefaultLockWait = TimeSpan.FromSeconds(60);

    /// <summary>The default of <see cref="LockTimeout"/>: half a second.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>The default of <see cref="LockRetryBudget"/>: five minutes.</summary>
    public static readonly TimeSpan DefaultLockRetryBudget = TimeSpan.FromMinutes(5);

    /// <summary>The default of <see cref="StatementTimeout"/>: 600 seconds.</summary>
    public static readonly TimeSpan DefaultStatementTimeout = TimeSpan.FromSeconds(600);

    /// <summary>
    /// An Npgsql connection string (keyword form): PostgreSQL itself, or a PgBouncer in session or
    /// transaction pooling mode. The runner's sessions are unpooled and get TCP keepalives.
    /// </summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// How long to wait for the migration lock, before each migration, while another migrator holds
    /// it; and how long a session's first query may wait for a server connection from a pooler
    /// whose connections are all taken (PgBouncer in session mode).
    /// </summary>
    public TimeSpan LockWait { get; init; } = DefaultLockWait;

    /// <summary>
    /// <c>lock_timeout</c> inside each migration (unless the migration declares its own, see
    /// <see cref="SchemaMigration.LockTimeout"/>): how long one of its statements may queue for a
    /// table lock. While it queues, every later query on that table queues behind it, so this is
    /// the longest stall an attempt can cause to the application's queries on the table.
    /// </summary>
    /// <remarks>
    /// Half a second by default: below the point where a stalled request is noticed or times out,
    /// and far above the few milliseconds a healthy transaction holds its locks, so on a busy but
    /// healthy table the first attempt gets the lock. A longer transaction is waited out without
    /// queueing (see <see cref="LockRetryBudget"/>). At least 1 ms and at most
    /// <see cref="int.MaxValue"/> ms: PostgreSQL reads 0 as "no limit".
    /// </remarks>
    public TimeSpan LockTimeout { get; init; } = DefaultLockTimeout;

    /// <summary>
    /// How long, from its first attempt, a migration whose statement hit <see cref="LockTimeout"/>
    /// keeps trying; <see cref="TimeSpan.Zero"/> means one attempt only.
    /// </summary>
    /// <remarks>
    /// Between attempts nothing queues: the runner waits a capped, jittered exponential backoff and
    /// then, while the transaction that blocked the last attempt (observed while the attempt waited)
    /// is still open, keeps waiting without queueing; the next attempt starts as soon as it ends. No
    /// attempt starts after the budget is spent; the migration then fails naming the blocking
    /// session. Five minutes by default: a long report or a slow batch job gets time to finish,
    /// and a client stuck in a transaction fails the deployment while someone can still look.
    /// </remarks>
    public TimeSpan LockRetryBudget { get; init; } = DefaultLockRetryBudget;

    /// <summary>
    /// <c>statement_timeout</c> inside each migration; <see cref="TimeSpan.Zero"/> means none,
    /// otherwise at least 1 ms. The client also gives up on a server that has not answered for this
    /// long plus 5 s (a frozen server or network), and then reports <see cref="MigrationError.ConnectionLost"/>.
    /// </summary>
    public TimeSpan StatementTimeout { get; init; } = DefaultStatementTimeout;

    /// <summary>
    /// Whether <see cref="SchemaMigrator.UpAsync"/> succeeds, with a warning, on a database that has
    /// applied versions this build does not know, provided every one of them is newer than all of
    /// this build's and all of this build's are applied: an older build starting after a rolling
    /// update. Otherwise (the default, or any unknown version older than this build's newest, or one
    /// of this build's pending) such a database is <see cref="MigrationError.DatabaseAhead"/>.
    /// </summary>
    public bool AllowNewer { get; init; }

    /// <summary>
    /// Where progress lines go (one per migration, waits for the lock or a pooler's server
    /// connection, attempts that hit the lock timeout).
    /// </summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>
    /// Where warnings go, one line each, starting <c>Warning: </c>: roles other than the schema's
    /// owner and the migrating role may create objects in it, or (<see cref="AllowNewer"/>) the
    /// database is ahead of this build. Null (the default): to <see cref="Log"/>.
    /// </summary>
    public TextWriter? Warnings { get; init; }

    /// <summary>The assemblies whose <c>[Migration]</c> classes make up the schema history.</summary>
    public IReadOnlyList<Assembly> Assemblies { get; init; } = [typeof(SchemaMigrator).Assembly];

    /// <summary>The waits between attempts; the bench sets the old schedule to compare with.</summary>
    internal LockBackoff Backoff { get; init; } = LockBackoff.Default;

    /// <summary>
    /// Whether the next attempt waits, without queueing, for the transactions that blocked the last
    /// one to end. The bench turns it off to measure the old behaviour.
    /// </summary>
    internal bool WaitForBlockers { get; init; } = true;
}

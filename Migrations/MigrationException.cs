namespace Coderd.Database.Migrations;

/// <summary>Why a migration run stopped; each maps to one exit code of the CLI.</summary>
public enum MigrationError
{
    /// <summary>A migration failed; it was rolled back and the ones before it stay applied.</summary>
    MigrationFailed,

    /// <summary>The server could not be reached, or refused the credentials or the database.</summary>
    ConnectionFailed,

    /// <summary>Another migrator held the lock for longer than the allowed wait.</summary>
    LockWaitTimeout,

    /// <summary>The database has applied versions this build does not know.</summary>
    DatabaseAhead,

    /// <summary>A pending migration is older than one already applied.</summary>
    OutOfOrder,

    /// <summary>A requested target version is not a migration of this build.</summary>
    UnknownVersion,

    /// <summary>The database has not applied every migration of this build (reported by <see cref="SchemaMigrator.VerifyAsync"/>).</summary>
    DatabaseBehind,

    /// <summary>
    /// The connection broke mid-run: the server shut down, restarted or crashed (SQLSTATE 57P01,
    /// 57P02, 57P03, class 08), the network failed, or the server did not answer within the statement
    /// timeout plus a margin. The running migration was not committed; run again.
    /// </summary>
    ConnectionLost,

    /// <summary>The server is a hot standby (in recovery): it cannot take schema changes. Refused before anything is locked.</summary>
    StandbyServer,

    /// <summary>The server is older than PostgreSQL 13. Refused before anything is read or written.</summary>
    UnsupportedServer,

    /// <summary><c>public.schema_version</c> exists but is not this runner's table (another tool's, by its columns).</summary>
    ForeignVersionTable,

    /// <summary>
    /// Another migrator moved the history the other way while this run waited for the lock (an up
    /// racing a down): nothing of the current migration was done; run again once the other is finished.
    /// </summary>
    HistoryChanged,
}

/// <summary>
/// A migration run stopped. <see cref="Exception.Message"/> is one line saying what happened and
/// what to do; it never holds a password or row data. The server's error, if any, is the inner exception.
/// </summary>
public sealed class MigrationException : Exception
{
    // Only the runner throws it: its message rules are the runner's to keep.
    internal MigrationException(MigrationError error, string message, Exception? inner = null)
        : base(message, inner) => Error = error;

    /// <summary>Which kind of failure this is.</summary>
    public MigrationError Error { get; }
}

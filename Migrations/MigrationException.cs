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

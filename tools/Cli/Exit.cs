namespace Coderd.Database.Cli;

/// <summary>The process exit codes; the README's table lists the same.</summary>
internal static class Exit
{
    public const int Success = 0;

    /// <summary>A migration failed and was rolled back (or another unexpected failure).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or input: an unknown option or version, a malformed connection string, a server older than PostgreSQL 13.</summary>
    public const int Usage = 2;

    /// <summary>
    /// The server could not be reached, refused the credentials, went away mid-run, is a hot
    /// standby, or the embedded one did not start.
    /// </summary>
    public const int Connection = 3;

    /// <summary>Another migrator held the lock for longer than <c>--lock-wait</c>, or moved the history the other way meanwhile.</summary>
    public const int LockWait = 4;

    /// <summary>The database and this build disagree: ahead, behind (verify), out of order, drifted, or its version table is another tool's.</summary>
    public const int Mismatch = 5;

    /// <summary>Interrupted: 128 + the signal number, as shells report it.</summary>
    public const int Interrupted = 128;
}

/// <summary>A failure the CLI reports as one line and an exit code; the message never holds a password.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

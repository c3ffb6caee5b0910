using Coderd.Database.Migrations;

namespace Coderd.Database.Cli;

/// <summary>The options every verb shares.</summary>
internal sealed record Settings
{
    /// <summary>
    /// The connection string given, from <c>--connection</c> or <c>DATABASE_URL</c>, as given (an
    /// empty one is refused); null when neither is set.
    /// </summary>
    public string? Connection { get; init; }

    /// <summary>Where <see cref="Connection"/> came from, for messages.</summary>
    public string ConnectionSource { get; init; } = "--connection";

    /// <summary>The embedded database's folder, from <c>--data-dir</c> or <c>CODERD_DB_DATA</c>; null for the default.</summary>
    public string? DataDirectory { get; init; }

    public TimeSpan LockWait { get; init; } = MigratorOptions.DefaultLockWait;

    public TimeSpan LockTimeout { get; init; } = MigratorOptions.DefaultLockTimeout;

    public TimeSpan LockRetryBudget { get; init; } = MigratorOptions.DefaultLockRetryBudget;

    public TimeSpan StatementTimeout { get; init; } = MigratorOptions.DefaultStatementTimeout;

    public bool Verbose { get; init; }

    /// <summary><c>up --allow-newer</c>: see <see cref="MigratorOptions.AllowNewer"/>.</summary>
    public bool AllowNewer { get; init; }

    /// <summary>Reads an environment variable (the <c>PG*</c> ones); null when unset.</summary>
    public Func<string, string?> Variable { get; init; } = _ => null;

    /// <summary>The runner's options: progress to <paramref name="log"/>, warnings to <paramref name="warnings"/> (stderr).</summary>
    public MigratorOptions ToMigratorOptions(string connectionString, TextWriter log, TextWriter warnings) => new()
    {
        ConnectionString = connectionString,
        LockWait = LockWait,
        LockTimeout = LockTimeout,
        StatementTimeout = StatementTimeout,
        LockRetryBudget = LockRetryBudget,
        AllowNewer = AllowNewer,
        Log = log,
        Warnings = warnings,
    };
}

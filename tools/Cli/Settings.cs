using Coderd.Database.Migrations;

namespace Coderd.Database.Cli;

/// <summary>The options every verb shares.</summary>
internal sealed record Settings
{
    public string? Connection { get; init; }

    public string? DataDirectory { get; init; }

    public TimeSpan LockWait { get; init; } = MigratorOptions.DefaultLockWait;

    public TimeSpan LockTimeout { get; init; } = MigratorOptions.DefaultLockTimeout;

    public TimeSpan StatementTimeout { get; init; } = MigratorOptions.DefaultStatementTimeout;

    public int LockRetries { get; init; } = MigratorOptions.DefaultLockTimeoutRetries;

    public bool Verbose { get; init; }

    public MigratorOptions ToMigratorOptions(string connectionString, TextWriter log) => new()
    {
        ConnectionString = connectionString,
        LockWait = LockWait,
        LockTimeout = LockTimeout,
        StatementTimeout = StatementTimeout,
        LockTimeoutRetries = LockRetries,
        Log = log,
    };
}

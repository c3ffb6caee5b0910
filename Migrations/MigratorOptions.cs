using System.Reflection;

namespace Coderd.Database.Migrations;

/// <summary>How <see cref="SchemaMigrator"/> connects, waits and logs. Defaults suit a deployment job.</summary>
public sealed record MigratorOptions
{
    /// <summary>The default of <see cref="LockWait"/>: 60 seconds.</summary>
    public static readonly TimeSpan DefaultLockWait = TimeSpan.FromSeconds(60);

    /// <summary>The default of <see cref="LockTimeout"/>: 3 seconds.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The default of <see cref="StatementTimeout"/>: 600 seconds.</summary>
    public static readonly TimeSpan DefaultStatementTimeout = TimeSpan.FromSeconds(600);

    /// <summary>The default of <see cref="LockTimeoutRetries"/>: 3.</summary>
    public const int DefaultLockTimeoutRetries = 3;

    /// <summary>An Npgsql connection string (keyword form). Needs a direct session: see the README on PgBouncer.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>How long to wait for another migrator's lock before giving up.</summary>
    public TimeSpan LockWait { get; init; } = DefaultLockWait;

    /// <summary>
    /// <c>lock_timeout</c> inside each migration: how long one of its statements may queue behind
    /// other sessions' locks (and so make their later queries queue behind it).
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = DefaultLockTimeout;

    /// <summary><c>statement_timeout</c> inside each migration; <see cref="TimeSpan.Zero"/> means none.</summary>
    public TimeSpan StatementTimeout { get; init; } = DefaultStatementTimeout;

    /// <summary>How many times a migration that hit <see cref="LockTimeout"/> is retried, with backoff.</summary>
    public int LockTimeoutRetries { get; init; } = DefaultLockTimeoutRetries;

    /// <summary>Where progress lines go (one per migration, lock waits).</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>The assemblies whose <c>[Migration]</c> classes make up the schema history.</summary>
    public IReadOnlyList<Assembly> Assemblies { get; init; } = [typeof(SchemaMigrator).Assembly];
}

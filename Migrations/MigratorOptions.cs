using System.Reflection;

namespace Coderd.Database.Migrations;

/// <summary>How <see cref="SchemaMigrator"/> connects, waits and logs. Defaults suit a deployment job.</summary>
public sealed record MigratorOptions
{
    /// <summary>An Npgsql connection string (keyword form). Needs a direct session: see the README on PgBouncer.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>How long to wait for another migrator's lock before giving up.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// <c>lock_timeout</c> inside each migration: how long one of its statements may queue behind
    /// other sessions' locks (and so make their later queries queue behind it).
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary><c>statement_timeout</c> inside each migration; <see cref="TimeSpan.Zero"/> means none.</summary>
    public TimeSpan StatementTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>How many times a migration that hit <see cref="LockTimeout"/> is retried, with backoff.</summary>
    public int LockTimeoutRetries { get; init; } = 3;

    /// <summary>Where progress lines go (one per migration, lock waits).</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>The assemblies whose <c>[Migration]</c> classes make up the schema history.</summary>
    public IReadOnlyList<Assembly> Assemblies { get; init; } = [typeof(SchemaMigrator).Assembly];
}

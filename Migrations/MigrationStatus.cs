namespace Coderd.Database.Migrations;

/// <summary>The state of a database's schema history.</summary>
/// <param name="ServerVersion">The PostgreSQL server version, e.g. <c>15.18</c>.</param>
/// <param name="Migrations">Every known migration, and any applied one this build does not know, by version.</param>
public sealed record MigrationStatus(string ServerVersion, IReadOnlyList<MigrationState> Migrations)
{
    /// <summary>Applied versions this build does not know: the database is ahead of it.</summary>
    public IEnumerable<MigrationState> Unknown => Migrations.Where(m => !m.Known);

    /// <summary>Known migrations not yet applied.</summary>
    public IEnumerable<MigrationState> Pending => Migrations.Where(m => m.AppliedAt is null);
}

/// <summary>One migration's state.</summary>
/// <param name="Version">Its version.</param>
/// <param name="Description">Its description (the recorded one when this build does not know it).</param>
/// <param name="AppliedAt">When it was applied; null while pending.</param>
/// <param name="Known">False when the database applied it but this build has no such migration.</param>
public sealed record MigrationState(long Version, string Description, DateTimeOffset? AppliedAt, bool Known);

/// <summary>A migration that ran.</summary>
/// <param name="Version">Its version.</param>
/// <param name="Description">Its description.</param>
/// <param name="Duration">Wall time of its transaction, retries included.</param>
public sealed record AppliedMigration(long Version, string Description, TimeSpan Duration);

/// <summary>What <see cref="SchemaMigrator.VerifyAsync"/> found.</summary>
/// <param name="Version">The version the database is at: this build's newest.</param>
/// <param name="Differences">How its schema differs from the one this build makes, in a fixed order; empty when it matches.</param>
public sealed record SchemaVerification(long Version, IReadOnlyList<SchemaDifference> Differences)
{
    /// <summary>True when the schema is exactly the one this build makes.</summary>
    public bool Matches => Differences.Count == 0;
}

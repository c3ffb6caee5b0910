using Coderd.Database.Migrations;

namespace Coderd.Database.Tests;

/// <summary>Assertions over <see cref="SchemaSnapshot"/>s whose failure lists every difference, one per line.</summary>
internal static class SchemaAssert
{
    /// <summary>Reads the snapshot of a database, in the test's cancellation.</summary>
    public static Task<SchemaSnapshot> SnapshotAsync(string connectionString) =>
        SchemaSnapshot.ReadAsync(connectionString, TestContext.Current.CancellationToken);

    /// <summary>Fails unless the two snapshots are the same schema.</summary>
    public static void Same(SchemaSnapshot expected, SchemaSnapshot found) => Empty(SchemaSnapshot.Compare(expected, found), "The schemas differ");

    /// <summary>Fails with <paramref name="what"/> and every difference when there is any.</summary>
    public static void Empty(IReadOnlyCollection<SchemaDifference> differences, string what)
    {
        if (differences.Count > 0) Assert.Fail($"{what} in {differences.Count} fact(s):\n{string.Join("\n", differences)}");
    }
}

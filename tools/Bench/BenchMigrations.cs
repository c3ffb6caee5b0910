using Coderd.Database.Migrations;

namespace Coderd.Database.Bench;

/// <summary>
/// The migrations the benchmarks exercise, named by version (the library keeps the migration
/// classes internal): a migration added later changes none of these, and a version this build
/// does not have stops the bench at start.
/// </summary>
internal static class BenchMigrations
{
    /// <summary><c>M2026_02_23_0005_CreateProvisionerJobStatsView</c>: where the usage-limit migration starts.</summary>
    public static long CreateProvisionerJobStatsView { get; } = Known(2026_02_23_0005);

    /// <summary><c>M2026_03_02_0001_AddChatUsageLimits</c>: adds the spend limit CHECKs <c>NOT VALID</c>.</summary>
    public static long AddChatUsageLimits { get; } = Known(2026_03_02_0001);

    /// <summary><c>M2026_03_02_0002_ValidateChatSpendLimits</c>: validates them; where the MCP migration starts.</summary>
    public static long ValidateChatSpendLimits { get; } = Known(2026_03_02_0002);

    /// <summary><c>M2026_03_19_0001_AddMcpServerConfigs</c>: the one that alters the busy <c>chats</c> table.</summary>
    public static long AddMcpServerConfigs { get; } = Known(2026_03_19_0001);

    private static long Known(long version) =>
        MigrationInfo.All.Any(m => m.Version == version)
            ? version
            : throw new InvalidOperationException($"This build has no migration {version}; name one of MigrationInfo.All.");
}

using Coderd.Database.Migrations;
using Coderd.Database.Migrations.Versions;

namespace Coderd.Database.Tests;

/// <summary>
/// The migrations tests exercise by name, looked up by class: a migration added later changes
/// none of these, and a test never means "the newest" or "the one before the last".
/// </summary>
internal static class NamedMigrations
{
    /// <summary>Validates the chat spend limit CHECKs: the schema the MCP migration starts from.</summary>
    public static long ValidateChatSpendLimits { get; } = MigrationInfo.Of<M2026_03_02_0002_ValidateChatSpendLimits>().Version;

    /// <summary>Adds the MCP tables and <c>chats.mcp_server_ids</c>: the one that alters the busy <c>chats</c> table.</summary>
    public static long AddMcpServerConfigs { get; } = MigrationInfo.Of<M2026_03_19_0001_AddMcpServerConfigs>().Version;
}

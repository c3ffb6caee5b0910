using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Validates the spend limit CHECKs added NOT VALID by the previous migration. Its own
/// transaction: VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and
/// writes go on, so only this step grows with the table and it blocks nobody.
/// </summary>
[Migration(2026_03_02_0002, "Validate user and group chat spend limit checks")]
internal sealed class M2026_03_02_0002_ValidateChatSpendLimits : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        ValidateConstraint("users", M2026_03_02_0001_AddChatUsageLimits.UserSpendCheck);
        ValidateConstraint("groups", M2026_03_02_0001_AddChatUsageLimits.GroupSpendCheck);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        // PostgreSQL cannot mark a constraint NOT VALID again; re-adding it NOT VALID restores
        // exactly the state before Up, without a scan.
        foreach (var (table, check) in new[]
                 {
                     ("groups", M2026_03_02_0001_AddChatUsageLimits.GroupSpendCheck),
                     ("users", M2026_03_02_0001_AddChatUsageLimits.UserSpendCheck),
                 })
        {
            DropConstraint(table, check);
            AddCheckNotValid(table, check, M2026_03_02_0001_AddChatUsageLimits.SpendCheckExpression);
        }
    }
}

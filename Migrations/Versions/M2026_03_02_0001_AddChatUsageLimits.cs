using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The chat usage limit singleton, and per-user and per-group spend limits. <c>users</c> and
/// <c>groups</c> are large and busy: the new columns are nullable without a default (a catalog
/// change, no rewrite) and their CHECKs are added NOT VALID, so the ACCESS EXCLUSIVE lock lasts
/// only as long as the catalog update. The next migration validates them without blocking writes.
/// </summary>
[Migration(2026_03_02_0001, "Add chat usage limit config and user and group chat spend limits")]
internal sealed class M2026_03_02_0001_AddChatUsageLimits : SchemaMigration
{
    internal const string UserSpendCheck = "users_chat_spend_limit_micros_check";
    internal const string GroupSpendCheck = "groups_chat_spend_limit_micros_check";
    internal const string SpendCheckExpression = "chat_spend_limit_micros IS NULL OR chat_spend_limit_micros > 0";

    /// <inheritdoc/>
    public override void Up()
    {
        Create.Table("chat_usage_limit_config")
            .WithColumn("id").AsCustom("bigserial").NotNullable().PrimaryKey("chat_usage_limit_config_pkey")
            .WithColumn("singleton").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("enabled").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("default_limit_micros").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("period").AsString().NotNullable().WithDefaultValue("month")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("chat_usage_limit_config", "The one row of deployment-wide chat spend limits.",
            ("singleton", "Always true; with its unique key it allows only one row."),
            ("default_limit_micros", "Spend allowed per user and period, in micros (millionths of the currency unit)."),
            ("period", "Length of the period spend is summed over: day, week or month."));
        AddCheck("chat_usage_limit_config", "chat_usage_limit_config_default_limit_micros_check", "default_limit_micros >= 0");
        AddCheck("chat_usage_limit_config", "chat_usage_limit_config_period_check", "period IN ('day', 'week', 'month')");
        // With the UNIQUE below, CHECK (singleton) allows exactly one row: singleton = true.
        AddCheck("chat_usage_limit_config", "chat_usage_limit_config_singleton_check", "singleton");
        Create.UniqueConstraint("chat_usage_limit_config_singleton_key").OnTable("chat_usage_limit_config").Column("singleton");
        Insert.IntoTable("chat_usage_limit_config").Row(new { singleton = true });

        Alter.Table("users").AddColumn("chat_spend_limit_micros").AsInt64().Nullable();
        CommentOnColumn("users", "chat_spend_limit_micros", "The user's chat spend limit per period, in micros; NULL if none is set for the user.");
        AddCheckNotValid("users", UserSpendCheck, SpendCheckExpression);
        Alter.Table("groups").AddColumn("chat_spend_limit_micros").AsInt64().Nullable();
        CommentOnColumn("groups", "chat_spend_limit_micros", "Chat spend limit per period for the group's members, in micros; NULL if none is set for the group.");
        AddCheckNotValid("groups", GroupSpendCheck, SpendCheckExpression);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        // Dropping a column drops its CHECK with it; the spend limits set since are lost, as the
        // columns did not exist before this migration.
        Delete.Column("chat_spend_limit_micros").FromTable("groups");
        Delete.Column("chat_spend_limit_micros").FromTable("users");
        Delete.Table("chat_usage_limit_config");
    }
}

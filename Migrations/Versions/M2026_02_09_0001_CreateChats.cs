using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>Chat providers, model configurations and chats.</summary>
[Migration(2026_02_09_0001, "Create chat providers, chat model configs and chats")]
public sealed class M2026_02_09_0001_CreateChats : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("chat_status", "waiting", "pending", "running", "paused", "completed", "error");
        CreateEnum("chat_mode", "computer_use");

        Create.Table("chat_providers")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("chat_providers_pkey")
            .WithColumn("provider").AsString().NotNullable()
            .WithColumn("display_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("api_key").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("api_key_key_id").AsString().Nullable()
                .ForeignKey("chat_providers_api_key_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("created_by").AsGuid().Nullable()
                .ForeignKey("chat_providers_created_by_fkey", "users", "id")
            .WithColumn("enabled").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("base_url").AsString().NotNullable().WithDefaultValue("");
        Create.UniqueConstraint("chat_providers_provider_key").OnTable("chat_providers").Column("provider");
        AddCheck("chat_providers", "chat_providers_provider_check",
            "provider IN ('anthropic', 'azure', 'bedrock', 'google', 'openai', 'openai-compat', 'openrouter', 'vercel')");
        Create.Index("idx_chat_providers_enabled").OnTable("chat_providers").OnColumn("enabled");

        Create.Table("chat_model_configs")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("chat_model_configs_pkey")
            .WithColumn("provider").AsString().NotNullable()
                .ForeignKey("chat_model_configs_provider_fkey", "chat_providers", "provider").OnDelete(Rule.Cascade)
            .WithColumn("model").AsString().NotNullable()
            .WithColumn("display_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("created_by").AsGuid().Nullable()
                .ForeignKey("chat_model_configs_created_by_fkey", "users", "id")
            .WithColumn("updated_by").AsGuid().Nullable()
                .ForeignKey("chat_model_configs_updated_by_fkey", "users", "id")
            .WithColumn("enabled").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("is_default").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("deleted_at").AsDateTimeOffset().Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("context_limit").AsInt64().NotNullable()
            .WithColumn("compression_threshold").AsInt32().NotNullable()
            .WithColumn("options").AsCustom("jsonb").NotNullable().WithDefaultValue("{}");
        AddCheck("chat_model_configs", "chat_model_configs_compression_threshold_check",
            "compression_threshold >= 0 AND compression_threshold <= 100");
        AddCheck("chat_model_configs", "chat_model_configs_context_limit_check", "context_limit > 0");
        // At most one live default model: every such row indexes the same constant.
        CreateIndex("idx_chat_model_configs_single_default", "chat_model_configs", "((1))", unique: true,
            where: "is_default = true AND deleted = false");

        Create.Table("chats")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("chats_pkey")
            .WithColumn("owner_id").AsGuid().NotNullable()
                .ForeignKey("chats_owner_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_id").AsGuid().Nullable()
                .ForeignKey("chats_workspace_id_fkey", "workspaces", "id").OnDelete(Rule.SetNull)
            .WithColumn("title").AsString().NotNullable().WithDefaultValue("New Chat")
            .WithColumn("status").AsCustom("chat_status").NotNullable().WithDefaultValue("waiting")
            .WithColumn("worker_id").AsGuid().Nullable()
            .WithColumn("started_at").AsDateTimeOffset().Nullable()
            .WithColumn("heartbeat_at").AsDateTimeOffset().Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("parent_chat_id").AsGuid().Nullable()
                .ForeignKey("chats_parent_chat_id_fkey", "chats", "id").OnDelete(Rule.SetNull)
            .WithColumn("root_chat_id").AsGuid().Nullable()
                .ForeignKey("chats_root_chat_id_fkey", "chats", "id").OnDelete(Rule.SetNull)
            .WithColumn("last_model_config_id").AsGuid().NotNullable()
                .ForeignKey("chats_last_model_config_id_fkey", "chat_model_configs", "id")
            .WithColumn("archived").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("last_error").AsString().Nullable()
            .WithColumn("mode").AsCustom("chat_mode").Nullable();
        Create.Index("idx_chats_owner").OnTable("chats").OnColumn("owner_id");
        Create.Index("idx_chats_workspace").OnTable("chats").OnColumn("workspace_id");
        CreateIndex("idx_chats_pending", "chats", "(status)", where: "status = 'pending'::chat_status");
        Create.Index("idx_chats_parent_chat_id").OnTable("chats").OnColumn("parent_chat_id");
        Create.Index("idx_chats_root_chat_id").OnTable("chats").OnColumn("root_chat_id");
        Create.Index("idx_chats_last_model_config_id").OnTable("chats").OnColumn("last_model_config_id");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("chats");
        Delete.Table("chat_model_configs");
        Delete.Table("chat_providers");
        DropEnum("chat_mode");
        DropEnum("chat_status");
    }
}

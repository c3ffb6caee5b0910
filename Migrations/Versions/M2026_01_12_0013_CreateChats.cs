using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// AI chats: providers and model configurations, chats, their messages and queued messages, the
/// diff status of a chat's branch and the files attached to chats.
/// </summary>
[Migration(2026_01_12_0013, "Create chat providers, model configs, chats, messages, queued messages, diff statuses and files")]
internal sealed class M2026_01_12_0013_CreateChats : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("chat_message_role", "system", "user", "assistant", "tool");
        CreateEnum("chat_message_visibility", "user", "model", "both");
        CreateEnum("chat_mode", "computer_use");
        CreateEnum("chat_status", "waiting", "pending", "running", "paused", "completed", "error");

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
        Describe("chat_providers", "An AI model provider configured for chats, with its credentials.",
            ("api_key_key_id", "NULL: api_key is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("base_url", "Address of the provider's API; empty for its default."));
        Create.UniqueConstraint("chat_providers_provider_key").OnTable("chat_providers").Column("provider");
        AddCheck("chat_providers", "chat_providers_provider_check",
            "provider IN ('anthropic', 'azure', 'bedrock', 'google', 'openai', 'openai-compat', 'openrouter', 'vercel')");
        Create.Index("idx_chat_providers_enabled").OnTable("chat_providers").OnColumn("enabled").Ascending();

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
        Describe("chat_model_configs", "A model offered in chats, with its limits.",
            ("deleted", "Soft delete: the row stays for chats that used the model."),
            ("context_limit", "Size of the model's context window, in tokens."),
            ("compression_threshold", "Percentage of the context window at which older messages are summarized."),
            ("options", "Provider-specific model options, as JSON."));
        AddCheck("chat_model_configs", "chat_model_configs_compression_threshold_check",
            "compression_threshold >= 0 AND compression_threshold <= 100");
        AddCheck("chat_model_configs", "chat_model_configs_context_limit_check", "context_limit > 0");
        Create.Index("idx_chat_model_configs_enabled").OnTable("chat_model_configs").OnColumn("enabled").Ascending();
        Create.Index("idx_chat_model_configs_provider").OnTable("chat_model_configs").OnColumn("provider").Ascending();
        Create.Index("idx_chat_model_configs_provider_model").OnTable("chat_model_configs")
            .OnColumn("provider").Ascending().OnColumn("model").Ascending();
        // At most one live default model: every such row indexes the same constant.
        CreateIndex("idx_chat_model_configs_single_default", "chat_model_configs",
            "((1))", unique: true, where: "is_default = true AND deleted = false");

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
        Describe("chats", "An AI chat of a user, optionally tied to a workspace.",
            ("worker_id", "The coderd replica running the chat; NULL when none is."),
            ("heartbeat_at", "Last heartbeat of the worker running the chat; NULL when none is."),
            ("parent_chat_id", "The chat that started this one as a sub-agent; NULL for a top-level chat."),
            ("root_chat_id", "The top-level chat of this chat's tree; NULL for a top-level chat."),
            ("last_error", "Last error the chat hit; NULL if none."),
            ("mode", "Chat mode; NULL for the default."));
        Create.Index("idx_chats_last_model_config_id").OnTable("chats").OnColumn("last_model_config_id").Ascending();
        Create.Index("idx_chats_owner").OnTable("chats").OnColumn("owner_id").Ascending();
        Create.Index("idx_chats_owner_updated_id").OnTable("chats")
            .OnColumn("owner_id").Ascending().OnColumn("updated_at").Descending().OnColumn("id").Descending();
        Create.Index("idx_chats_parent_chat_id").OnTable("chats").OnColumn("parent_chat_id").Ascending();
        CreateIndex("idx_chats_pending", "chats", "(status)", where: "status = 'pending'");
        Create.Index("idx_chats_root_chat_id").OnTable("chats").OnColumn("root_chat_id").Ascending();
        Create.Index("idx_chats_workspace").OnTable("chats").OnColumn("workspace_id").Ascending();

        CreateSequence("chat_messages_id_seq", "bigint");
        Create.Table("chat_messages")
            .WithColumn("id").AsInt64().NotNullable().WithDefaultValue(NextValue("chat_messages_id_seq")).PrimaryKey("chat_messages_pkey")
            .WithColumn("chat_id").AsGuid().NotNullable()
                .ForeignKey("chat_messages_chat_id_fkey", "chats", "id").OnDelete(Rule.Cascade)
            .WithColumn("model_config_id").AsGuid().Nullable()
                .ForeignKey("chat_messages_model_config_id_fkey", "chat_model_configs", "id")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("role").AsCustom("chat_message_role").NotNullable()
            .WithColumn("content").AsCustom("jsonb").Nullable()
            .WithColumn("visibility").AsCustom("chat_message_visibility").NotNullable().WithDefaultValue("both")
            .WithColumn("input_tokens").AsInt64().Nullable()
            .WithColumn("output_tokens").AsInt64().Nullable()
            .WithColumn("total_tokens").AsInt64().Nullable()
            .WithColumn("reasoning_tokens").AsInt64().Nullable()
            .WithColumn("cache_creation_tokens").AsInt64().Nullable()
            .WithColumn("cache_read_tokens").AsInt64().Nullable()
            .WithColumn("context_limit").AsInt64().Nullable()
            .WithColumn("compressed").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("created_by").AsGuid().Nullable()
            .WithColumn("content_version").AsInt16().NotNullable()
            .WithColumn("total_cost_micros").AsInt64().Nullable()
            .WithColumn("runtime_ms").AsInt64().Nullable()
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false);
        Describe("chat_messages", "A message of a chat, with the tokens and cost it used.",
            ("model_config_id", "The model that produced the message; NULL for user messages."),
            ("content", "Message parts as JSON; their format is given by content_version."),
            ("visibility", "Whether the message is shown to the user, sent to the model, or both."),
            ("context_limit", "Context window of the model at the time, in tokens."),
            ("compressed", "True for a summary that replaces earlier messages."),
            ("created_by", "User who wrote the message; NULL for generated ones."),
            ("content_version", "Version of the content JSON format."),
            ("total_cost_micros", "Cost of the message in micros (millionths of the currency unit); NULL if unknown."),
            ("runtime_ms", "Milliseconds the model took; NULL if not measured."),
            ("deleted", "Soft delete: the row stays for spend accounting."));
        OwnSequence("chat_messages_id_seq", "chat_messages", "id");
        Create.Index("idx_chat_messages_chat").OnTable("chat_messages").OnColumn("chat_id").Ascending();
        Create.Index("idx_chat_messages_chat_created").OnTable("chat_messages")
            .OnColumn("chat_id").Ascending().OnColumn("created_at").Ascending();
        CreateIndex("idx_chat_messages_compressed_summary_boundary", "chat_messages",
            "(chat_id, created_at DESC, id DESC)", where: "compressed = true AND role = 'system' AND visibility IN ('model', 'both')");
        Create.Index("idx_chat_messages_created_at").OnTable("chat_messages").OnColumn("created_at").Ascending();
        CreateIndex("idx_chat_messages_owner_spend", "chat_messages",
            "(chat_id, created_at)", where: "total_cost_micros IS NOT NULL");

        CreateSequence("chat_queued_messages_id_seq", "bigint");
        Create.Table("chat_queued_messages")
            .WithColumn("id").AsInt64().NotNullable().WithDefaultValue(NextValue("chat_queued_messages_id_seq")).PrimaryKey("chat_queued_messages_pkey")
            .WithColumn("chat_id").AsGuid().NotNullable()
                .ForeignKey("chat_queued_messages_chat_id_fkey", "chats", "id").OnDelete(Rule.Cascade)
            .WithColumn("content").AsCustom("jsonb").NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("chat_queued_messages", "A user message waiting to be sent to a busy chat.",
            ("content", "Message parts as JSON."));
        OwnSequence("chat_queued_messages_id_seq", "chat_queued_messages", "id");
        Create.Index("idx_chat_queued_messages_chat_id").OnTable("chat_queued_messages")
            .OnColumn("chat_id").Ascending();

        Create.Table("chat_diff_statuses")
            .WithColumn("chat_id").AsGuid().NotNullable().PrimaryKey("chat_diff_statuses_pkey")
                .ForeignKey("chat_diff_statuses_chat_id_fkey", "chats", "id").OnDelete(Rule.Cascade)
            .WithColumn("url").AsString().Nullable()
            .WithColumn("pull_request_state").AsString().Nullable()
            .WithColumn("changes_requested").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("additions").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("deletions").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("changed_files").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("refreshed_at").AsDateTimeOffset().Nullable()
            .WithColumn("stale_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("git_branch").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("git_remote_origin").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("pull_request_title").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("pull_request_draft").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("author_login").AsString().Nullable()
            .WithColumn("author_avatar_url").AsString().Nullable()
            .WithColumn("base_branch").AsString().Nullable()
            .WithColumn("pr_number").AsInt32().Nullable()
            .WithColumn("commits").AsInt32().Nullable()
            .WithColumn("approved").AsBoolean().Nullable()
            .WithColumn("reviewer_count").AsInt32().Nullable()
            .WithColumn("head_branch").AsString().Nullable();
        Describe("chat_diff_statuses", "The state of the Git changes and pull request of a chat's workspace.",
            ("pull_request_state", "State of the pull request; NULL if there is none."),
            ("refreshed_at", "When the status was last fetched; NULL if never."),
            ("stale_at", "When the status should be fetched again."));
        Create.Index("idx_chat_diff_statuses_stale_at").OnTable("chat_diff_statuses").OnColumn("stale_at").Ascending();

        Create.Table("chat_files")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("chat_files_pkey")
            .WithColumn("owner_id").AsGuid().NotNullable()
                .ForeignKey("chat_files_owner_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("chat_files_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("mimetype").AsString().NotNullable()
            .WithColumn("data").AsBinary().NotNullable();
        Describe("chat_files", "A file attached to chats by a user.");
        Create.Index("idx_chat_files_org").OnTable("chat_files").OnColumn("organization_id").Ascending();
        Create.Index("idx_chat_files_owner").OnTable("chat_files").OnColumn("owner_id").Ascending();
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("chat_files");
        Delete.Table("chat_diff_statuses");
        Delete.Table("chat_queued_messages");
        Delete.Table("chat_messages");
        Delete.Table("chats");
        Delete.Table("chat_model_configs");
        Delete.Table("chat_providers");
        DropType("chat_status");
        DropType("chat_mode");
        DropType("chat_message_visibility");
        DropType("chat_message_role");
    }
}

using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// AI bridge: intercepted model requests with their thoughts, token and tool usages and user
/// prompts, and the per-user AI seat state.
/// </summary>
[Migration(2026_01_12_0012, "Create AI bridge interceptions and their usages, and AI seat state")]
internal sealed class M2026_01_12_0012_CreateAiBridge : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("ai_seat_usage_reason", "aibridge", "task");

        Create.Table("aibridge_interceptions")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("aibridge_interceptions_pkey")
            .WithColumn("initiator_id").AsGuid().NotNullable()
                .ForeignKey("aibridge_interceptions_initiator_id_fkey", "users", "id")
            .WithColumn("provider").AsString().NotNullable()
            .WithColumn("model").AsString().NotNullable()
            .WithColumn("started_at").AsDateTimeOffset().NotNullable()
            .WithColumn("metadata").AsCustom("jsonb").Nullable()
            .WithColumn("ended_at").AsDateTimeOffset().Nullable()
            .WithColumn("api_key_id").AsString().Nullable()
            .WithColumn("client").AsString(64).Nullable().WithDefaultValue("Unknown")
            .WithColumn("thread_parent_id").AsGuid().Nullable()
            .WithColumn("thread_root_id").AsGuid().Nullable()
            .WithColumn("client_session_id").AsString(256).Nullable();
        Describe("aibridge_interceptions", "A request to an AI model provider that the AI bridge intercepted.",
            ("initiator_id", "The user who made the request."),
            ("api_key_id", "Id of the API key the request used; NULL if unknown."),
            ("client", "AI client that made the request, as far as it could be told."),
            ("thread_parent_id", "The interception this one continues; NULL for the first of a thread."),
            ("thread_root_id", "The first interception of the thread; NULL for the first itself."),
            ("client_session_id", "Session id the client sent; NULL if none."));
        Create.Index("idx_aibridge_interceptions_client").OnTable("aibridge_interceptions")
            .OnColumn("client").Ascending();
        CreateIndex("idx_aibridge_interceptions_client_session_id", "aibridge_interceptions",
            "(client_session_id)", where: "client_session_id IS NOT NULL");
        Create.Index("idx_aibridge_interceptions_initiator_id").OnTable("aibridge_interceptions")
            .OnColumn("initiator_id").Ascending();
        Create.Index("idx_aibridge_interceptions_model").OnTable("aibridge_interceptions")
            .OnColumn("model").Ascending();
        Create.Index("idx_aibridge_interceptions_provider").OnTable("aibridge_interceptions")
            .OnColumn("provider").Ascending();
        Create.Index("idx_aibridge_interceptions_started_id_desc").OnTable("aibridge_interceptions")
            .OnColumn("started_at").Descending().OnColumn("id").Descending();
        Create.Index("idx_aibridge_interceptions_thread_parent_id").OnTable("aibridge_interceptions")
            .OnColumn("thread_parent_id").Ascending();
        Create.Index("idx_aibridge_interceptions_thread_root_id").OnTable("aibridge_interceptions")
            .OnColumn("thread_root_id").Ascending();

        // No primary key and no unique key, as in coderd's schema: rows are read per interception.
        Create.Table("aibridge_model_thoughts")
            .WithColumn("interception_id").AsGuid().NotNullable()
            .WithColumn("content").AsString().NotNullable()
            .WithColumn("metadata").AsCustom("jsonb").Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable();
        Describe("aibridge_model_thoughts", "Reasoning output of a model during an intercepted request.");
        Create.Index("idx_aibridge_model_thoughts_interception_id").OnTable("aibridge_model_thoughts")
            .OnColumn("interception_id").Ascending();

        Create.Table("aibridge_token_usages")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("aibridge_token_usages_pkey")
            .WithColumn("interception_id").AsGuid().NotNullable()
            .WithColumn("provider_response_id").AsString().NotNullable()
            .WithColumn("input_tokens").AsInt64().NotNullable()
            .WithColumn("output_tokens").AsInt64().NotNullable()
            .WithColumn("metadata").AsCustom("jsonb").Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable();
        Describe("aibridge_token_usages", "Tokens an intercepted request used, per provider response.");
        Create.Index("idx_aibridge_token_usages_interception_id").OnTable("aibridge_token_usages")
            .OnColumn("interception_id").Ascending();
        Create.Index("idx_aibridge_token_usages_provider_response_id").OnTable("aibridge_token_usages")
            .OnColumn("provider_response_id").Ascending();

        Create.Table("aibridge_tool_usages")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("aibridge_tool_usages_pkey")
            .WithColumn("interception_id").AsGuid().NotNullable()
            .WithColumn("provider_response_id").AsString().NotNullable()
            .WithColumn("server_url").AsString().Nullable()
            .WithColumn("tool").AsString().NotNullable()
            .WithColumn("input").AsString().NotNullable()
            .WithColumn("injected").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("invocation_error").AsString().Nullable()
            .WithColumn("metadata").AsCustom("jsonb").Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("provider_tool_call_id").AsString().Nullable();
        Describe("aibridge_tool_usages", "A tool call made during an intercepted request.",
            ("server_url", "MCP server the tool came from; NULL for a client-side tool."),
            ("injected", "True if the AI bridge added the tool itself."),
            ("invocation_error", "Error the tool returned; NULL if none."));
        Create.Index("idx_aibridge_tool_usages_interception_id").OnTable("aibridge_tool_usages")
            .OnColumn("interception_id").Ascending();
        Create.Index("idx_aibridge_tool_usages_provider_tool_call_id").OnTable("aibridge_tool_usages")
            .OnColumn("provider_tool_call_id").Ascending();
        Create.Index("idx_aibridge_tool_usagesprovider_response_id").OnTable("aibridge_tool_usages")
            .OnColumn("provider_response_id").Ascending();

        Create.Table("aibridge_user_prompts")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("aibridge_user_prompts_pkey")
            .WithColumn("interception_id").AsGuid().NotNullable()
            .WithColumn("provider_response_id").AsString().NotNullable()
            .WithColumn("prompt").AsString().NotNullable()
            .WithColumn("metadata").AsCustom("jsonb").Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable();
        Describe("aibridge_user_prompts", "A prompt a user sent in an intercepted request.");
        Create.Index("idx_aibridge_user_prompts_interception_id").OnTable("aibridge_user_prompts")
            .OnColumn("interception_id").Ascending();
        Create.Index("idx_aibridge_user_prompts_provider_response_id").OnTable("aibridge_user_prompts")
            .OnColumn("provider_response_id").Ascending();

        Create.Table("ai_seat_state")
            .WithColumn("user_id").AsGuid().NotNullable().PrimaryKey("ai_seat_state_pkey")
                .ForeignKey("ai_seat_state_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("first_used_at").AsDateTimeOffset().NotNullable()
            .WithColumn("last_used_at").AsDateTimeOffset().NotNullable()
            .WithColumn("last_event_type").AsCustom("ai_seat_usage_reason").NotNullable()
            .WithColumn("last_event_description").AsString().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable();
        Describe("ai_seat_state", "When a user first and last used AI features, for seat counting.");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("ai_seat_state");
        Delete.Table("aibridge_user_prompts");
        Delete.Table("aibridge_tool_usages");
        Delete.Table("aibridge_token_usages");
        Delete.Table("aibridge_model_thoughts");
        Delete.Table("aibridge_interceptions");
        DropType("ai_seat_usage_reason");
    }
}

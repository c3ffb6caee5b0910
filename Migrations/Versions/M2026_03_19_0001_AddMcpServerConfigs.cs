using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Admin-managed MCP server configurations, per-user OAuth tokens for them, and the list of MCP
/// servers a chat uses. <c>chats</c> is large and busy: its new column has a constant default,
/// which PostgreSQL 11+ stores in the catalog without rewriting the table.
/// </summary>
[Migration(2026_03_19_0001, "Add MCP server configs, user tokens and chats.mcp_server_ids")]
internal sealed class M2026_03_19_0001_AddMcpServerConfigs : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Create.Table("mcp_server_configs")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("mcp_server_configs_pkey")
            .WithColumn("display_name").AsString().NotNullable()
            .WithColumn("slug").AsString().NotNullable()
            .WithColumn("description").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("icon_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("transport").AsString().NotNullable().WithDefaultValue("streamable_http")
            .WithColumn("url").AsString().NotNullable()
            .WithColumn("auth_type").AsString().NotNullable().WithDefaultValue("none")
            .WithColumn("oauth2_client_id").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth2_client_secret").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth2_client_secret_key_id").AsString().Nullable()
                .ForeignKey("mcp_server_configs_oauth2_client_secret_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("oauth2_auth_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth2_token_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth2_scopes").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("api_key_header").AsString().NotNullable().WithDefaultValue("Authorization")
            .WithColumn("api_key_value").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("api_key_value_key_id").AsString().Nullable()
                .ForeignKey("mcp_server_configs_api_key_value_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            // Text, not jsonb: the value may be encrypted (see custom_headers_key_id).
            .WithColumn("custom_headers").AsString().NotNullable().WithDefaultValue("{}")
            .WithColumn("custom_headers_key_id").AsString().Nullable()
                .ForeignKey("mcp_server_configs_custom_headers_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("tool_allow_list").AsCustom("text[]").NotNullable().WithDefaultValue("{}")
            .WithColumn("tool_deny_list").AsCustom("text[]").NotNullable().WithDefaultValue("{}")
            .WithColumn("availability").AsString().NotNullable().WithDefaultValue("default_off")
            .WithColumn("enabled").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("created_by").AsGuid().Nullable()
                .ForeignKey("mcp_server_configs_created_by_fkey", "users", "id").OnDelete(Rule.SetNull)
            .WithColumn("updated_by").AsGuid().Nullable()
                .ForeignKey("mcp_server_configs_updated_by_fkey", "users", "id").OnDelete(Rule.SetNull)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("mcp_server_configs", "An MCP server that administrators offer to chats.",
            ("transport", "streamable_http or sse."),
            ("auth_type", "How chats authenticate to the server: none, oauth2, api_key or custom_headers."),
            ("oauth2_client_secret_key_id", "NULL: oauth2_client_secret is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("oauth2_scopes", "Space-separated scopes to request."),
            ("api_key_header", "Header that carries api_key_value."),
            ("api_key_value_key_id", "NULL: api_key_value is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("custom_headers", "JSON object of headers sent to the server; text so that it can be encrypted."),
            ("custom_headers_key_id", "NULL: custom_headers is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("tool_allow_list", "Tools of the server that chats may use."),
            ("tool_deny_list", "Tools of the server that chats may not use."),
            ("availability", "force_on, default_on or default_off in new chats."));
        Create.UniqueConstraint("mcp_server_configs_slug_key").OnTable("mcp_server_configs").Column("slug");
        AddCheck("mcp_server_configs", "mcp_server_configs_auth_type_check", "auth_type IN ('none', 'oauth2', 'api_key', 'custom_headers')");
        AddCheck("mcp_server_configs", "mcp_server_configs_availability_check", "availability IN ('force_on', 'default_on', 'default_off')");
        AddCheck("mcp_server_configs", "mcp_server_configs_transport_check", "transport IN ('streamable_http', 'sse')");

        Create.Table("mcp_server_user_tokens")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("mcp_server_user_tokens_pkey")
            .WithColumn("mcp_server_config_id").AsGuid().NotNullable()
                .ForeignKey("mcp_server_user_tokens_mcp_server_config_id_fkey", "mcp_server_configs", "id").OnDelete(Rule.Cascade)
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("mcp_server_user_tokens_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("access_token").AsString().NotNullable()
            .WithColumn("access_token_key_id").AsString().Nullable()
                .ForeignKey("mcp_server_user_tokens_access_token_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("refresh_token").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("refresh_token_key_id").AsString().Nullable()
                .ForeignKey("mcp_server_user_tokens_refresh_token_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("token_type").AsString().NotNullable().WithDefaultValue("Bearer")
            .WithColumn("expiry").AsDateTimeOffset().Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("mcp_server_user_tokens", "A user's OAuth2 token for an MCP server.",
            ("access_token_key_id", "NULL: access_token is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("refresh_token_key_id", "NULL: refresh_token is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("expiry", "When access_token expires; NULL if it does not."));
        Create.UniqueConstraint("mcp_server_user_tokens_mcp_server_config_id_user_id_key")
            .OnTable("mcp_server_user_tokens").Columns("mcp_server_config_id", "user_id");

        CreateIndex("idx_mcp_server_configs_enabled", "mcp_server_configs", "(enabled)", where: "enabled = true");
        CreateIndex("idx_mcp_server_configs_forced", "mcp_server_configs", "(enabled, availability)",
            where: "enabled = true AND availability = 'force_on'");
        Create.Index("idx_mcp_server_user_tokens_user_id").OnTable("mcp_server_user_tokens").OnColumn("user_id");

        // No foreign key: a chat may name a config that was deleted since.
        Alter.Table("chats").AddColumn("mcp_server_ids").AsCustom("uuid[]").NotNullable().WithDefaultValue("{}");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Column("mcp_server_ids").FromTable("chats");
        Delete.Index("idx_mcp_server_user_tokens_user_id").OnTable("mcp_server_user_tokens");
        Delete.Index("idx_mcp_server_configs_forced").OnTable("mcp_server_configs");
        Delete.Index("idx_mcp_server_configs_enabled").OnTable("mcp_server_configs");
        Delete.Table("mcp_server_user_tokens");
        Delete.Table("mcp_server_configs");
    }
}

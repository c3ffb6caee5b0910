using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Secrets and authentication: the dbcrypt key table that encrypted columns point at, API keys
/// and their scopes, signing keys, links to external identity and Git providers, users' SSH keys
/// and user secrets.
/// </summary>
[Migration(2026_01_12_0002, "Create dbcrypt keys, API keys, crypto keys, external auth links, SSH keys and user secrets")]
internal sealed class M2026_01_12_0002_CreateKeysSecretsAndAuth : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("api_key_scope",
            "coder:all", "coder:application_connect", "aibridge_interception:create", "aibridge_interception:read",
            "aibridge_interception:update", "api_key:create", "api_key:delete", "api_key:read", "api_key:update",
            "assign_org_role:assign", "assign_org_role:create", "assign_org_role:delete", "assign_org_role:read",
            "assign_org_role:unassign", "assign_org_role:update", "assign_role:assign", "assign_role:read",
            "assign_role:unassign", "audit_log:create", "audit_log:read", "connection_log:read", "connection_log:update",
            "crypto_key:create", "crypto_key:delete", "crypto_key:read", "crypto_key:update", "debug_info:read",
            "deployment_config:read", "deployment_config:update", "deployment_stats:read", "file:create",
            "file:read", "group:create", "group:delete", "group:read", "group:update", "group_member:read",
            "idpsync_settings:read", "idpsync_settings:update", "inbox_notification:create", "inbox_notification:read",
            "inbox_notification:update", "license:create", "license:delete", "license:read", "notification_message:create",
            "notification_message:delete", "notification_message:read", "notification_message:update",
            "notification_preference:read", "notification_preference:update", "notification_template:read",
            "notification_template:update", "oauth2_app:create", "oauth2_app:delete", "oauth2_app:read",
            "oauth2_app:update", "oauth2_app_code_token:create", "oauth2_app_code_token:delete", "oauth2_app_code_token:read",
            "oauth2_app_secret:create", "oauth2_app_secret:delete", "oauth2_app_secret:read", "oauth2_app_secret:update",
            "organization:create", "organization:delete", "organization:read", "organization:update", "organization_member:create",
            "organization_member:delete", "organization_member:read", "organization_member:update", "prebuilt_workspace:delete",
            "prebuilt_workspace:update", "provisioner_daemon:create", "provisioner_daemon:delete", "provisioner_daemon:read",
            "provisioner_daemon:update", "provisioner_jobs:create", "provisioner_jobs:read", "provisioner_jobs:update",
            "replicas:read", "system:create", "system:delete", "system:read", "system:update", "tailnet_coordinator:create",
            "tailnet_coordinator:delete", "tailnet_coordinator:read", "tailnet_coordinator:update", "template:create",
            "template:delete", "template:read", "template:update", "template:use", "template:view_insights",
            "usage_event:create", "usage_event:read", "usage_event:update", "user:create", "user:delete",
            "user:read", "user:read_personal", "user:update", "user:update_personal", "user_secret:create",
            "user_secret:delete", "user_secret:read", "user_secret:update", "webpush_subscription:create",
            "webpush_subscription:delete", "webpush_subscription:read", "workspace:application_connect",
            "workspace:create", "workspace:create_agent", "workspace:delete", "workspace:delete_agent",
            "workspace:read", "workspace:ssh", "workspace:start", "workspace:stop", "workspace:update",
            "workspace_agent_devcontainers:create", "workspace_agent_resource_monitor:create", "workspace_agent_resource_monitor:read",
            "workspace_agent_resource_monitor:update", "workspace_dormant:application_connect", "workspace_dormant:create",
            "workspace_dormant:create_agent", "workspace_dormant:delete", "workspace_dormant:delete_agent",
            "workspace_dormant:read", "workspace_dormant:ssh", "workspace_dormant:start", "workspace_dormant:stop",
            "workspace_dormant:update", "workspace_proxy:create", "workspace_proxy:delete", "workspace_proxy:read",
            "workspace_proxy:update", "coder:workspaces.create", "coder:workspaces.operate", "coder:workspaces.delete",
            "coder:workspaces.access", "coder:templates.build", "coder:templates.author", "coder:apikeys.manage_self",
            "aibridge_interception:*", "api_key:*", "assign_org_role:*", "assign_role:*", "audit_log:*",
            "connection_log:*", "crypto_key:*", "debug_info:*", "deployment_config:*", "deployment_stats:*",
            "file:*", "group:*", "group_member:*", "idpsync_settings:*", "inbox_notification:*", "license:*",
            "notification_message:*", "notification_preference:*", "notification_template:*", "oauth2_app:*",
            "oauth2_app_code_token:*", "oauth2_app_secret:*", "organization:*", "organization_member:*",
            "prebuilt_workspace:*", "provisioner_daemon:*", "provisioner_jobs:*", "replicas:*", "system:*",
            "tailnet_coordinator:*", "template:*", "usage_event:*", "user:*", "user_secret:*", "webpush_subscription:*",
            "workspace:*", "workspace_agent_devcontainers:*", "workspace_agent_resource_monitor:*", "workspace_dormant:*",
            "workspace_proxy:*", "task:create", "task:read", "task:update", "task:delete", "task:*", "workspace:share",
            "workspace_dormant:share", "boundary_usage:*", "boundary_usage:delete", "boundary_usage:read",
            "boundary_usage:update", "workspace:update_agent", "workspace_dormant:update_agent", "chat:create",
            "chat:read", "chat:update", "chat:delete", "chat:*");
        CreateEnum("crypto_key_feature", "workspace_apps_token", "workspace_apps_api_key", "oidc_convert", "tailnet_resume");

        // Every *_key_id column elsewhere references active_key_digest, with no ON DELETE: a key that
        // still encrypts a value cannot be deleted.
        Create.Table("dbcrypt_keys")
            .WithColumn("number").AsInt32().NotNullable().PrimaryKey("dbcrypt_keys_pkey")
            .WithColumn("active_key_digest").AsString().Nullable()
            .WithColumn("revoked_key_digest").AsString().Nullable()
            .WithColumn("created_at").AsDateTimeOffset().Nullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("revoked_at").AsDateTimeOffset().Nullable()
            .WithColumn("test").AsString().NotNullable();
        Describe("dbcrypt_keys", "A key that encrypts secret columns at rest; identified by its digest.",
            ("number", "Position of the key in the order keys were added."),
            ("active_key_digest", "Digest of the key while it is in use; encrypted columns reference it."),
            ("revoked_key_digest", "Digest of the key once revoked; NULL while active."),
            ("test", "A known value encrypted with the key, to check that the configured key matches."));
        Create.UniqueConstraint("dbcrypt_keys_active_key_digest_key")
            .OnTable("dbcrypt_keys").Column("active_key_digest");
        Create.UniqueConstraint("dbcrypt_keys_revoked_key_digest_key")
            .OnTable("dbcrypt_keys").Column("revoked_key_digest");

        Create.Table("api_keys")
            .WithColumn("id").AsString().NotNullable().PrimaryKey("api_keys_pkey")
            .WithColumn("hashed_secret").AsBinary().NotNullable()
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("api_keys_user_id_uuid_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("last_used").AsDateTimeOffset().NotNullable()
            .WithColumn("expires_at").AsDateTimeOffset().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("login_type").AsCustom("login_type").NotNullable()
            .WithColumn("lifetime_seconds").AsInt64().NotNullable().WithDefaultValue(86400)
            .WithColumn("ip_address").AsCustom("inet").NotNullable().WithDefaultValue("0.0.0.0")
            .WithColumn("token_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("scopes").AsCustom("api_key_scope[]").NotNullable()
            .WithColumn("allow_list").AsCustom("text[]").NotNullable();
        Describe("api_keys", "A session or API token of a user.",
            ("id", "Public identifier of the key: the part of the token before the secret."),
            ("hashed_secret", "Hash of the token's secret; the secret itself is never stored."),
            ("last_used", "When the key last authenticated a request."),
            ("login_type", "How the key was obtained; token for long-lived API tokens."),
            ("lifetime_seconds", "Lifetime of the key in seconds."),
            ("ip_address", "Address of the client that last used the key."),
            ("token_name", "Name the user gave an API token; empty for session keys."),
            ("scopes", "What the key may do."),
            ("allow_list", "Resources the key is limited to, as type:id entries."));
        // Never false for a NOT NULL array: array_length('{}', 1) is NULL. Kept because coderd has it.
        AddCheck("api_keys", "api_keys_allow_list_not_empty", "array_length(allow_list, 1) > 0");
        Create.Index("api_keys_last_used_idx").OnTable("api_keys").OnColumn("last_used").Descending();
        CreateIndex("idx_api_key_name", "api_keys",
            "(user_id, token_name)", unique: true, where: "login_type = 'token'");
        Create.Index("idx_api_keys_user").OnTable("api_keys").OnColumn("user_id").Ascending();

        Create.Table("crypto_keys")
            .WithColumn("feature").AsCustom("crypto_key_feature").NotNullable().PrimaryKey("crypto_keys_pkey")
            .WithColumn("sequence").AsInt32().NotNullable().PrimaryKey("crypto_keys_pkey")
            .WithColumn("secret").AsString().Nullable()
            .WithColumn("secret_key_id").AsString().Nullable()
                .ForeignKey("crypto_keys_secret_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("starts_at").AsDateTimeOffset().NotNullable()
            .WithColumn("deletes_at").AsDateTimeOffset().Nullable();
        Describe("crypto_keys", "A signing or encryption key coderd uses for one feature, rotated by sequence.",
            ("sequence", "Version of the key within its feature."),
            ("secret", "The key material; NULL once it has been erased."),
            ("secret_key_id", "NULL: secret is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("starts_at", "When the key starts being used."),
            ("deletes_at", "When the key is to be deleted; NULL while it has no end."));

        Create.Table("user_links")
            .WithColumn("user_id").AsGuid().NotNullable().PrimaryKey("user_links_pkey")
                .ForeignKey("user_links_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("login_type").AsCustom("login_type").NotNullable().PrimaryKey("user_links_pkey")
            .WithColumn("linked_id").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth_access_token").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth_refresh_token").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("oauth_expiry").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("oauth_access_token_key_id").AsString().Nullable()
                .ForeignKey("user_links_oauth_access_token_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("oauth_refresh_token_key_id").AsString().Nullable()
                .ForeignKey("user_links_oauth_refresh_token_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("claims").AsCustom("jsonb").NotNullable().WithDefaultValue("{}");
        Describe("user_links", "A user's link to an external identity provider, with its OAuth tokens.",
            ("linked_id", "The user's id at the identity provider."),
            ("oauth_expiry", "When oauth_access_token expires."),
            ("oauth_access_token_key_id", "NULL: oauth_access_token is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("oauth_refresh_token_key_id", "NULL: oauth_refresh_token is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("claims", "Claims the identity provider returned at the last login, as JSON."));
        CreateIndex("user_links_linked_id_login_type_idx", "user_links",
            "(linked_id, login_type)", unique: true, where: "linked_id <> ''");

        // No primary key: a link is identified by (provider_id, user_id), its unique key.
        // Its constraint names still carry the table's former name, git_auth_links.
        Create.Table("external_auth_links")
            .WithColumn("provider_id").AsString().NotNullable()
            .WithColumn("user_id").AsGuid().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("oauth_access_token").AsString().NotNullable()
            .WithColumn("oauth_refresh_token").AsString().NotNullable()
            .WithColumn("oauth_expiry").AsDateTimeOffset().NotNullable()
            .WithColumn("oauth_access_token_key_id").AsString().Nullable()
                .ForeignKey("git_auth_links_oauth_access_token_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("oauth_refresh_token_key_id").AsString().Nullable()
                .ForeignKey("git_auth_links_oauth_refresh_token_key_id_fkey", "dbcrypt_keys", "active_key_digest")
            .WithColumn("oauth_extra").AsCustom("jsonb").Nullable()
            .WithColumn("oauth_refresh_failure_reason").AsString().NotNullable().WithDefaultValue("");
        Describe("external_auth_links", "A user's OAuth link to an external service (for example a Git host) configured in coderd.",
            ("provider_id", "Id of the external auth provider in the deployment's configuration."),
            ("oauth_expiry", "When oauth_access_token expires."),
            ("oauth_access_token_key_id", "NULL: oauth_access_token is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("oauth_refresh_token_key_id", "NULL: oauth_refresh_token is stored in plain text; otherwise the digest of the dbcrypt key that encrypted it."),
            ("oauth_extra", "Extra fields of the provider's token response, as JSON."),
            ("oauth_refresh_failure_reason", "Why the last token refresh failed; empty when it did not."));
        Create.UniqueConstraint("git_auth_links_provider_id_user_id_key")
            .OnTable("external_auth_links").Columns("provider_id", "user_id");

        Create.Table("gitsshkeys")
            .WithColumn("user_id").AsGuid().NotNullable().PrimaryKey("gitsshkeys_pkey")
                .ForeignKey("gitsshkeys_user_id_fkey", "users", "id")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("private_key").AsString().NotNullable()
            .WithColumn("public_key").AsString().NotNullable();
        Describe("gitsshkeys", "The SSH key pair coderd generated for a user's Git operations in workspaces.",
            ("private_key", "PEM-encoded private key."),
            ("public_key", "Public key in authorized_keys format."));

        Create.Table("user_secrets")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("user_secrets_pkey")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("user_secrets_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("description").AsString().NotNullable()
            .WithColumn("value").AsString().NotNullable()
            .WithColumn("env_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("file_path").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp);
        Describe("user_secrets", "A secret a user stores for use in their workspaces.",
            ("env_name", "Environment variable to expose the value as; empty for none."),
            ("file_path", "File to write the value to; empty for none."));
        CreateIndex("user_secrets_user_env_name_idx", "user_secrets",
            "(user_id, env_name)", unique: true, where: "env_name <> ''");
        CreateIndex("user_secrets_user_file_path_idx", "user_secrets",
            "(user_id, file_path)", unique: true, where: "file_path <> ''");
        Create.Index("user_secrets_user_name_idx").OnTable("user_secrets")
            .OnColumn("user_id").Ascending().OnColumn("name").Ascending().WithOptions().Unique();
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("user_secrets");
        Delete.Table("gitsshkeys");
        Delete.Table("external_auth_links");
        Delete.Table("user_links");
        Delete.Table("crypto_keys");
        Delete.Table("api_keys");
        Delete.Table("dbcrypt_keys");
        DropType("crypto_key_feature");
        DropType("api_key_scope");
    }
}

using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>Organisations, users, groups, custom roles, API keys and the dbcrypt key table.</summary>
[Migration(2026_01_12_0001, "Create organizations, users, groups, custom roles, API keys and dbcrypt keys")]
public sealed class M2026_01_12_0001_CreateIdentity : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("login_type", "password", "github", "oidc", "token", "none", "oauth2_provider_app");
        CreateEnum("user_status", "active", "suspended", "dormant");
        CreateEnum("group_source", "user", "oidc");
        CreateEnum("shareable_workspace_owners", "none", "everyone", "service_accounts");
        // The real type has about 200 labels; this schema carries only the chat-related ones.
        CreateEnum("api_key_scope", "all", "application_connect", "chat:create", "chat:read", "chat:update", "chat:delete", "chat:*");

        Create.Table("organizations")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("organizations_pkey")
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("description").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("is_default").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("display_name").AsString().NotNullable()
            .WithColumn("icon").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("shareable_workspace_owners").AsCustom("shareable_workspace_owners").NotNullable().WithDefaultValue("everyone");
        CreateIndex("idx_organization_name_lower", "organizations", "(lower(name))", unique: true, where: "deleted = false");
        CreateIndex("organizations_single_default_org", "organizations", "(is_default)", unique: true, where: "is_default = true");

        Create.Table("users")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("users_pkey")
            .WithColumn("email").AsString().NotNullable()
            .WithColumn("username").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("hashed_password").AsBinary().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("status").AsCustom("user_status").NotNullable().WithDefaultValue("dormant")
            .WithColumn("rbac_roles").AsCustom("text[]").NotNullable().WithDefaultValue("{}")
            .WithColumn("login_type").AsCustom("login_type").NotNullable().WithDefaultValue("password")
            .WithColumn("avatar_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("last_seen_at").AsCustom("timestamp without time zone").NotNullable().WithDefaultValue("0001-01-01 00:00:00")
            .WithColumn("quiet_hours_schedule").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("github_com_user_id").AsInt64().Nullable()
            .WithColumn("hashed_one_time_passcode").AsBinary().Nullable()
            .WithColumn("one_time_passcode_expires_at").AsDateTimeOffset().Nullable()
            .WithColumn("is_system").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("is_service_account").AsBoolean().NotNullable().WithDefaultValue(false);
        AddCheck("users", "one_time_passcode_set",
            "(hashed_one_time_passcode IS NULL AND one_time_passcode_expires_at IS NULL) OR (hashed_one_time_passcode IS NOT NULL AND one_time_passcode_expires_at IS NOT NULL)");
        AddCheck("users", "users_email_not_empty", "(is_service_account = true) = (email = '')");
        AddCheck("users", "users_service_account_login_type", "is_service_account = false OR login_type = 'none'::login_type");
        AddCheck("users", "users_username_min_length", "length(username) >= 1");
        CreateIndex("idx_users_email", "users", "(email)", unique: true, where: "deleted = false AND email <> ''");
        CreateIndex("users_email_lower_idx", "users", "(lower(email))", unique: true, where: "deleted = false AND email <> ''");
        CreateIndex("idx_users_username", "users", "(username)", unique: true, where: "deleted = false");
        CreateIndex("users_username_lower_idx", "users", "(lower(username))", unique: true, where: "deleted = false");

        Create.Table("groups")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("groups_pkey")
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("groups_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("avatar_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("quota_allowance").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("display_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("source").AsCustom("group_source").NotNullable().WithDefaultValue("user");
        Create.UniqueConstraint("groups_name_organization_id_key").OnTable("groups").Columns("name", "organization_id");

        // No primary key: coderd identifies custom roles by (name, organization_id).
        Create.Table("custom_roles")
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("display_name").AsString().NotNullable()
            .WithColumn("site_permissions").AsCustom("jsonb").NotNullable().WithDefaultValue("[]")
            .WithColumn("org_permissions").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("user_permissions").AsCustom("jsonb").NotNullable().WithDefaultValue("[]")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("organization_id").AsGuid().Nullable()
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid)
            .WithColumn("is_system").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("member_permissions").AsCustom("jsonb").NotNullable().WithDefaultValue("[]");
        // NULL organization_id is a site-wide role and passes; only the zero uuid is rejected.
        AddCheck("custom_roles", "organization_id_not_zero", "organization_id <> '00000000-0000-0000-0000-000000000000'::uuid");
        Create.UniqueConstraint("custom_roles_unique_key").OnTable("custom_roles").Columns("name", "organization_id");
        CreateIndex("idx_custom_roles_name_lower_organization_id", "custom_roles",
            "(lower(name), COALESCE(organization_id, '00000000-0000-0000-0000-000000000000'::uuid))", unique: true);
        Create.Index("idx_custom_roles_id").OnTable("custom_roles").OnColumn("id");

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
        // Never false for a NOT NULL array: array_length('{}', 1) is NULL. Kept because coderd has it.
        AddCheck("api_keys", "api_keys_allow_list_not_empty", "array_length(allow_list, 1) > 0");
        CreateIndex("idx_api_key_name", "api_keys", "(user_id, token_name)", unique: true, where: "login_type = 'token'::login_type");
        Create.Index("idx_api_keys_user").OnTable("api_keys").OnColumn("user_id");
        Create.Index("api_keys_last_used_idx").OnTable("api_keys").OnColumn("last_used");

        Create.Table("dbcrypt_keys")
            .WithColumn("number").AsInt32().NotNullable().PrimaryKey("dbcrypt_keys_pkey")
            .WithColumn("active_key_digest").AsString().Nullable()
            .WithColumn("revoked_key_digest").AsString().Nullable()
            .WithColumn("created_at").AsDateTimeOffset().Nullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("revoked_at").AsDateTimeOffset().Nullable()
            .WithColumn("test").AsString().NotNullable();
        Create.UniqueConstraint("dbcrypt_keys_active_key_digest_key").OnTable("dbcrypt_keys").Column("active_key_digest");
        Create.UniqueConstraint("dbcrypt_keys_revoked_key_digest_key").OnTable("dbcrypt_keys").Column("revoked_key_digest");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("dbcrypt_keys");
        Delete.Table("api_keys");
        Delete.Table("custom_roles");
        Delete.Table("groups");
        Delete.Table("users");
        Delete.Table("organizations");
        DropEnum("api_key_scope");
        DropEnum("shareable_workspace_owners");
        DropEnum("group_source");
        DropEnum("user_status");
        DropEnum("login_type");
    }
}

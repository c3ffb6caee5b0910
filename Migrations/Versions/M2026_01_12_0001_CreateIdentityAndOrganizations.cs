using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The identity core every other table hangs from: organizations, users and their membership, groups
/// and group members, custom roles, per-user settings, and the records of deleted users and of
/// status changes.
/// </summary>
[Migration(2026_01_12_0001, "Create organizations, users, members, groups and custom roles")]
internal sealed class M2026_01_12_0001_CreateIdentityAndOrganizations : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("login_type", "password", "github", "oidc", "token", "none", "oauth2_provider_app");
        CreateEnum("user_status", "active", "suspended", "dormant");
        CreateEnum("group_source", "user", "oidc");
        CreateEnum("shareable_workspace_owners", "none", "everyone", "service_accounts");
        CreateCompositeType("name_organization_pair", "name text", "organization_id uuid");

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
        Describe("organizations", "An organization: a tenant that owns templates, workspaces, groups and provisioners.",
            ("is_default", "True for the one organization new users join by default."),
            ("deleted", "Soft delete: a deleted organization keeps its row and frees its name."),
            ("shareable_workspace_owners", "Which workspace owners may share their workspaces with others."));
        CreateIndex("idx_organization_name_lower", "organizations",
            "(lower(name))", unique: true, where: "deleted = false");
        CreateIndex("organizations_single_default_org", "organizations",
            "(is_default)", unique: true, where: "is_default = true");

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
        Describe("users", "A user account, human or service account.",
            ("hashed_password", "Password hash; empty for accounts that do not log in with a password."),
            ("status", "active, suspended (cannot log in) or dormant (inactive for a while, or never logged in)."),
            ("rbac_roles", "Site-wide role names granted to the user."),
            ("login_type", "How the user logs in; service accounts use none."),
            ("deleted", "Soft delete: the row stays so that history keeps its owner."),
            ("last_seen_at", "Time of the last activity, without time zone; 0001-01-01 means never seen."),
            ("quiet_hours_schedule", "Cron expression of the user's quiet hours; empty means the deployment default."),
            ("github_com_user_id", "GitHub user id, kept when the account is linked to github.com."),
            ("hashed_one_time_passcode", "Hash of a password-reset code; NULL when no reset is pending."),
            ("one_time_passcode_expires_at", "When the pending reset code stops working; NULL together with the code."),
            ("is_system", "True for accounts coderd creates for its own use."),
            ("is_service_account", "True for non-human accounts, which have no email and log in with none."));
        AddCheck("users", "one_time_passcode_set",
            "(hashed_one_time_passcode IS NULL AND one_time_passcode_expires_at IS NULL) OR (hashed_one_time_passcode IS NOT NULL AND one_time_passcode_expires_at IS NOT NULL)");
        AddCheck("users", "users_email_not_empty", "(is_service_account = true) = (email = '')");
        AddCheck("users", "users_service_account_login_type",
            "is_service_account = false OR login_type = 'none'::login_type");
        // username defaults to '', so an insert that leaves it out fails this check.
        AddCheck("users", "users_username_min_length", "length(username) >= 1");
        CreateIndex("idx_users_email", "users",
            "(email)", unique: true, where: "deleted = false AND email <> ''");
        CreateIndex("idx_users_username", "users", "(username)", unique: true, where: "deleted = false");
        CreateIndex("users_email_lower_idx", "users",
            "(lower(email))", unique: true, where: "deleted = false AND email <> ''");
        CreateIndex("users_username_lower_idx", "users", "(lower(username))", unique: true, where: "deleted = false");

        Create.Table("organization_members")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("organization_members_user_id_uuid_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("organization_members_organization_id_uuid_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("roles").AsCustom("text[]").NotNullable().WithDefaultValue("{}");
        Describe("organization_members", "Membership of a user in an organization, with the roles held there.",
            ("roles", "Organization-scoped role names granted to the member."));
        // The key's columns come in another order than the table's, which a key declared on the
        // columns cannot say.
        AddPrimaryKey("organization_members_pkey", "organization_members", "organization_id", "user_id");
        Create.Index("idx_organization_member_organization_id_uuid").OnTable("organization_members")
            .OnColumn("organization_id").Ascending();
        Create.Index("idx_organization_member_user_id_uuid").OnTable("organization_members")
            .OnColumn("user_id").Ascending();

        Create.Table("groups")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("groups_pkey")
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("groups_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("avatar_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("quota_allowance").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("display_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("source").AsCustom("group_source").NotNullable().WithDefaultValue("user");
        Describe("groups", "A group of users within an organization, used for access and quota.",
            ("quota_allowance", "Workspace cost budget each member gets from this group."),
            ("source", "user for groups managed in coderd, oidc for groups synced from the identity provider."));
        Create.UniqueConstraint("groups_name_organization_id_key").OnTable("groups").Columns("name", "organization_id");

        // No primary key: a membership is the (user_id, group_id) pair.
        Create.Table("group_members")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("group_members_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("group_id").AsGuid().NotNullable()
                .ForeignKey("group_members_group_id_fkey", "groups", "id").OnDelete(Rule.Cascade);
        Describe("group_members", "Membership of a user in a group.");
        Create.UniqueConstraint("group_members_user_id_group_id_key")
            .OnTable("group_members").Columns("user_id", "group_id");

        // No primary key: coderd addresses a custom role by (name, organization_id).
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
        Describe("custom_roles", "A role defined by an administrator, site-wide or for one organization.",
            ("site_permissions", "JSON array of permissions granted across the deployment."),
            ("org_permissions", "JSON object of permissions granted per organization."),
            ("user_permissions", "JSON array of permissions granted on the user's own resources."),
            ("organization_id", "NULL for a site-wide role; otherwise the organization the role belongs to."),
            ("is_system", "True for the built-in roles coderd manages itself."),
            ("member_permissions", "JSON array of permissions granted on resources the organization member owns."));
        Create.UniqueConstraint("custom_roles_unique_key").OnTable("custom_roles").Columns("name", "organization_id");
        // A NULL organization_id is a site-wide role and passes; only the zero uuid is rejected.
        AddCheck("custom_roles", "organization_id_not_zero",
            "organization_id <> '00000000-0000-0000-0000-000000000000'::uuid");
        Create.Index("idx_custom_roles_id").OnTable("custom_roles").OnColumn("id").Ascending();
        CreateIndex("idx_custom_roles_name_lower_organization_id", "custom_roles",
            "(lower(name), COALESCE(organization_id, '00000000-0000-0000-0000-000000000000'::uuid))", unique: true);

        Create.Table("user_configs")
            .WithColumn("user_id").AsGuid().NotNullable().PrimaryKey("user_configs_pkey")
                .ForeignKey("user_configs_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("key").AsString(256).NotNullable().PrimaryKey("user_configs_pkey")
            .WithColumn("value").AsString().NotNullable();
        Describe("user_configs", "One per-user preference, as a key and value.");

        Create.Table("user_deleted")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("user_deleted_pkey")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("user_deleted_user_id_fkey", "users", "id")
            .WithColumn("deleted_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp);
        Describe("user_deleted", "A record that a user was deleted, kept for reporting.");
        Create.Index("idx_user_deleted_deleted_at").OnTable("user_deleted").OnColumn("deleted_at").Ascending();

        Create.Table("user_status_changes")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("user_status_changes_pkey")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("user_status_changes_user_id_fkey", "users", "id")
            .WithColumn("new_status").AsCustom("user_status").NotNullable()
            .WithColumn("changed_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp);
        Describe("user_status_changes", "A change of a user's status, kept for reporting.");
        Create.Index("idx_user_status_changes_changed_at").OnTable("user_status_changes")
            .OnColumn("changed_at").Ascending();
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("user_status_changes");
        Delete.Table("user_deleted");
        Delete.Table("user_configs");
        Delete.Table("custom_roles");
        Delete.Table("group_members");
        Delete.Table("groups");
        Delete.Table("organization_members");
        Delete.Table("users");
        Delete.Table("organizations");
        DropType("name_organization_pair");
        DropType("shareable_workspace_owners");
        DropType("group_source");
        DropType("user_status");
        DropType("login_type");
    }
}

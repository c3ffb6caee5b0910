using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// <c>visible_users</c>, the public face of a user that the other views join to (so they never
/// carry a password hash), and <c>group_members_expanded</c>, group membership with organization
/// membership counted as membership of the organization's "Everyone" group.
/// </summary>
/// <remarks>
/// The first view migration: five later views depend on <c>visible_users</c>. Views are stored with
/// the objects they name resolved, so qualifying them only guards the creation itself.
/// </remarks>
[Migration(2026_02_23_0001, "Create the visible_users and group_members_expanded views")]
internal sealed class M2026_02_23_0001_CreateUserViews : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE VIEW public.visible_users AS
                SELECT users.id, users.username, users.name, users.avatar_url
                FROM public.users
            """);
        Execute.Sql("""
            COMMENT ON VIEW public.visible_users IS
                'Every user (deleted, system and service accounts included) with only the fields other users may see: id, username, name and avatar.'
            """);

        Execute.Sql("""
            CREATE VIEW public.group_members_expanded AS
                WITH memberships AS (
                    SELECT group_members.user_id, group_members.group_id
                    FROM public.group_members
                    UNION
                    -- An organization's "Everyone" group has the organization's id.
                    SELECT organization_members.user_id, organization_members.organization_id AS group_id
                    FROM public.organization_members
                )
                SELECT
                    users.id AS user_id,
                    users.email AS user_email,
                    users.username AS user_username,
                    users.hashed_password AS user_hashed_password,
                    users.created_at AS user_created_at,
                    users.updated_at AS user_updated_at,
                    users.status AS user_status,
                    users.rbac_roles AS user_rbac_roles,
                    users.login_type AS user_login_type,
                    users.avatar_url AS user_avatar_url,
                    users.deleted AS user_deleted,
                    users.last_seen_at AS user_last_seen_at,
                    users.quiet_hours_schedule AS user_quiet_hours_schedule,
                    users.name AS user_name,
                    users.github_com_user_id AS user_github_com_user_id,
                    users.is_system AS user_is_system,
                    groups.organization_id,
                    groups.name AS group_name,
                    memberships.group_id
                FROM memberships
                JOIN public.users ON users.id = memberships.user_id AND users.deleted = false
                JOIN public.groups ON groups.id = memberships.group_id
            """);
        Execute.Sql("""
            COMMENT ON VIEW public.group_members_expanded IS
                'One row per live user and group they belong to, explicitly or as an organization member (the organization''s Everyone group), with the user''s columns prefixed user_ and the group''s name and organization.'
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP VIEW public.group_members_expanded");
        Execute.Sql("DROP VIEW public.visible_users");
    }
}

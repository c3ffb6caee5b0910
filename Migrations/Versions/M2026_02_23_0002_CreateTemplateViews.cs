using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Templates and template versions with the names a UI shows beside them: the creator's username,
/// name and avatar, and the template's organization.
/// </summary>
[Migration(2026_02_23_0002, "Create the template_version_with_user and template_with_names views")]
internal sealed class M2026_02_23_0002_CreateTemplateViews : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        // "*" is expanded when the view is created: these are the tables' columns in table order.
        Execute.Sql("""
            CREATE VIEW public.template_version_with_user AS
                SELECT
                    template_versions.*,
                    COALESCE(visible_users.avatar_url, ''::text) AS created_by_avatar_url,
                    COALESCE(visible_users.username, ''::text) AS created_by_username,
                    COALESCE(visible_users.name, ''::text) AS created_by_name
                FROM public.template_versions
                LEFT JOIN public.visible_users ON visible_users.id = template_versions.created_by
            """);
        Execute.Sql("""
            COMMENT ON VIEW public.template_version_with_user IS
                'Every template version with its creator''s avatar URL, username and name (empty strings when the creator is unknown).'
            """);

        Execute.Sql("""
            CREATE VIEW public.template_with_names AS
                SELECT
                    templates.*,
                    COALESCE(visible_users.avatar_url, ''::text) AS created_by_avatar_url,
                    COALESCE(visible_users.username, ''::text) AS created_by_username,
                    COALESCE(visible_users.name, ''::text) AS created_by_name,
                    COALESCE(organizations.name, ''::text) AS organization_name,
                    COALESCE(organizations.display_name, ''::text) AS organization_display_name,
                    COALESCE(organizations.icon, ''::text) AS organization_icon
                FROM public.templates
                LEFT JOIN public.visible_users ON visible_users.id = templates.created_by
                LEFT JOIN public.organizations ON organizations.id = templates.organization_id
            """);
        Execute.Sql("""
            COMMENT ON VIEW public.template_with_names IS
                'Every template, deleted ones included, with its creator''s avatar URL, username and name and its organization''s name, display name and icon (empty strings when missing).'
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP VIEW public.template_with_names");
        Execute.Sql("DROP VIEW public.template_version_with_user");
    }
}

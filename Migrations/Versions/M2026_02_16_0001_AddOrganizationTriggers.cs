using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The triggers that keep an organization's roles and memberships consistent: the two system roles
/// every new organization gets, the guard on soft-deleting an organization that still has things in
/// it, and the clean-up of member rows when a custom role or an organization member goes away.
/// </summary>
/// <remarks>
/// The functions run with the caller's <c>search_path</c> (they have no <c>SET</c> options, as in
/// coderd), so every object they name is schema-qualified: a trigger fired from a session with
/// another path does exactly the same thing.
/// </remarks>
[Migration(2026_02_16_0001, "Add organization role, soft-delete guard and membership clean-up triggers")]
internal sealed class M2026_02_16_0001_AddOrganizationTriggers : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE FUNCTION public.insert_organization_system_roles() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- org_permissions gets an empty array here, not its column default '{}'.
                INSERT INTO public.custom_roles
                    (name, display_name, site_permissions, org_permissions, user_permissions, member_permissions,
                     organization_id, is_system, created_at, updated_at)
                VALUES
                    ('organization-member', '', '[]', '[]', '[]', '[]', NEW.id, true, now(), now()),
                    ('organization-service-account', '', '[]', '[]', '[]', '[]', NEW.id, true, now(), now());
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_insert_organization_system_roles AFTER INSERT ON public.organizations
                FOR EACH ROW EXECUTE FUNCTION public.insert_organization_system_roles()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.protect_deleting_organizations() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            DECLARE
                workspace_count bigint;
                template_count bigint;
                provisioner_key_count bigint;
                group_count bigint;
                member_count bigint;
                blockers text[] := '{}';
            BEGIN
                SELECT count(*) INTO workspace_count
                    FROM public.workspaces WHERE organization_id = OLD.id AND deleted = false;
                SELECT count(*) INTO template_count
                    FROM public.templates WHERE organization_id = OLD.id AND deleted = false;
                SELECT count(*) INTO provisioner_key_count
                    FROM public.provisioner_keys WHERE organization_id = OLD.id;
                SELECT count(*) INTO group_count
                    FROM public.groups WHERE organization_id = OLD.id;
                SELECT count(*) INTO member_count
                    FROM public.organization_members AS m
                    JOIN public.users AS u ON u.id = m.user_id
                    WHERE m.organization_id = OLD.id AND u.deleted = false;

                IF workspace_count > 0 THEN
                    blockers := array_append(blockers, format('%s workspaces', workspace_count));
                END IF;
                IF template_count > 0 THEN
                    blockers := array_append(blockers, format('%s templates', template_count));
                END IF;
                IF provisioner_key_count > 0 THEN
                    blockers := array_append(blockers, format('%s provisioner keys', provisioner_key_count));
                END IF;
                IF cardinality(blockers) > 0 THEN
                    RAISE EXCEPTION 'cannot delete organization: organization has % that must be deleted first',
                        array_to_string(blockers, ', ');
                END IF;

                -- One group and one live member may remain, whichever they are: typically the
                -- organization's "Everyone" group and the admin who deletes it.
                IF group_count > 1 THEN
                    RAISE EXCEPTION 'cannot delete organization: organization has % groups that must be deleted first',
                        group_count - 1;
                END IF;
                IF member_count > 1 THEN
                    RAISE EXCEPTION 'cannot delete organization: organization has % members that must be deleted first',
                        member_count - 1;
                END IF;

                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER protect_deleting_organizations BEFORE UPDATE ON public.organizations
                FOR EACH ROW WHEN (NEW.deleted = true AND OLD.deleted = false)
                EXECUTE FUNCTION public.protect_deleting_organizations()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.remove_organization_member_role() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- A site-wide role (no organization) is held in users.rbac_roles, which stays as is.
                IF OLD.organization_id IS NOT NULL THEN
                    UPDATE public.organization_members
                        SET roles = array_remove(roles, OLD.name)
                        WHERE organization_id = OLD.organization_id;
                END IF;
                RETURN OLD;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER remove_organization_member_custom_role BEFORE DELETE ON public.custom_roles
                FOR EACH ROW EXECUTE FUNCTION public.remove_organization_member_role()
            """);
        Execute.Sql("""
            COMMENT ON TRIGGER remove_organization_member_custom_role ON public.custom_roles IS
                'Takes a deleted organization role out of the roles array of every member of that organization.'
            """);

        Execute.Sql("""
            CREATE FUNCTION public.delete_group_members_on_org_member_delete() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                DELETE FROM public.group_members
                    WHERE user_id = OLD.user_id
                      AND group_id IN (SELECT id FROM public.groups WHERE organization_id = OLD.organization_id);
                RETURN OLD;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_delete_group_members_on_org_member_delete BEFORE DELETE ON public.organization_members
                FOR EACH ROW EXECUTE FUNCTION public.delete_group_members_on_org_member_delete()
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP TRIGGER trigger_delete_group_members_on_org_member_delete ON public.organization_members");
        Execute.Sql("DROP FUNCTION public.delete_group_members_on_org_member_delete()");
        Execute.Sql("DROP TRIGGER remove_organization_member_custom_role ON public.custom_roles");
        Execute.Sql("DROP FUNCTION public.remove_organization_member_role()");
        Execute.Sql("DROP TRIGGER protect_deleting_organizations ON public.organizations");
        Execute.Sql("DROP FUNCTION public.protect_deleting_organizations()");
        Execute.Sql("DROP TRIGGER trigger_insert_organization_system_roles ON public.organizations");
        Execute.Sql("DROP FUNCTION public.insert_organization_system_roles()");
    }
}

using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The triggers around users and their credentials: a deleted user loses its API keys and links and
/// cannot get new ones, every status change and soft delete is recorded, and removing an OAuth2
/// token removes the API key it was issued as.
/// </summary>
/// <remarks>Every object the functions name is schema-qualified; see <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>.</remarks>
[Migration(2026_02_16_0002, "Add triggers for deleted users, user status history, API keys, user links and OAuth2 tokens")]
internal sealed class M2026_02_16_0002_AddUserTriggers : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE FUNCTION public.delete_deleted_user_resources() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- On INSERT OLD is NULL and nothing matches: a new user has no keys or links yet.
                IF NEW.deleted THEN
                    DELETE FROM public.api_keys WHERE user_id = OLD.id;
                    DELETE FROM public.user_links WHERE user_id = OLD.id;
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_update_users AFTER INSERT OR UPDATE ON public.users
                FOR EACH ROW WHEN (NEW.deleted = true)
                EXECUTE FUNCTION public.delete_deleted_user_resources()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.record_user_status_change() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- Both histories are stamped with the user's updated_at, not the clock.
                IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
                    INSERT INTO public.user_status_changes (user_id, new_status, changed_at)
                        VALUES (NEW.id, NEW.status, NEW.updated_at);
                END IF;
                IF TG_OP = 'UPDATE' AND OLD.deleted = false AND NEW.deleted = true THEN
                    INSERT INTO public.user_deleted (user_id, deleted_at)
                        VALUES (NEW.id, NEW.updated_at);
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER user_status_change_trigger AFTER INSERT OR UPDATE ON public.users
                FOR EACH ROW EXECUTE FUNCTION public.record_user_status_change()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.insert_apikey_fail_if_user_deleted() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                IF NEW.user_id IS NOT NULL
                   AND EXISTS (SELECT FROM public.users WHERE id = NEW.user_id AND deleted = true) THEN
                    RAISE EXCEPTION 'Cannot create API key for deleted user';
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_insert_apikeys BEFORE INSERT ON public.api_keys
                FOR EACH ROW EXECUTE FUNCTION public.insert_apikey_fail_if_user_deleted()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.insert_user_links_fail_if_user_deleted() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                IF NEW.user_id IS NOT NULL
                   AND EXISTS (SELECT FROM public.users WHERE id = NEW.user_id AND deleted = true) THEN
                    RAISE EXCEPTION 'Cannot create user_link for deleted user';
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_upsert_user_links BEFORE INSERT OR UPDATE ON public.user_links
                FOR EACH ROW EXECUTE FUNCTION public.insert_user_links_fail_if_user_deleted()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.delete_deleted_oauth2_provider_app_token_api_key() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- Also reached through cascades (a deleted app secret or app); when the API key's
                -- own deletion cascaded here, the key is already gone and this deletes nothing.
                DELETE FROM public.api_keys WHERE id = OLD.api_key_id;
                RETURN OLD;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_delete_oauth2_provider_app_token AFTER DELETE ON public.oauth2_provider_app_tokens
                FOR EACH ROW EXECUTE FUNCTION public.delete_deleted_oauth2_provider_app_token_api_key()
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP TRIGGER trigger_delete_oauth2_provider_app_token ON public.oauth2_provider_app_tokens");
        Execute.Sql("DROP FUNCTION public.delete_deleted_oauth2_provider_app_token_api_key()");
        Execute.Sql("DROP TRIGGER trigger_upsert_user_links ON public.user_links");
        Execute.Sql("DROP FUNCTION public.insert_user_links_fail_if_user_deleted()");
        Execute.Sql("DROP TRIGGER trigger_insert_apikeys ON public.api_keys");
        Execute.Sql("DROP FUNCTION public.insert_apikey_fail_if_user_deleted()");
        Execute.Sql("DROP TRIGGER user_status_change_trigger ON public.users");
        Execute.Sql("DROP FUNCTION public.record_user_status_change()");
        Execute.Sql("DROP TRIGGER trigger_update_users ON public.users");
        Execute.Sql("DROP FUNCTION public.delete_deleted_user_resources()");
    }
}

using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The two BEFORE triggers on <c>notification_messages</c>: one refuses a message the user has not
/// enabled, the other stamps the hash that lets the unique index
/// <c>notification_messages_dedupe_hash_idx</c> refuse the same message twice on one UTC day.
/// </summary>
/// <remarks>
/// Both fire BEFORE INSERT, in name order: <c>inhibit_enqueue_if_disabled</c> first. Every object
/// the functions name is schema-qualified; see <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>.
/// </remarks>
[Migration(2026_02_16_0003, "Add notification enqueue guard and dedupe hash triggers")]
internal sealed class M2026_02_16_0003_AddNotificationTriggers : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE FUNCTION public.inhibit_enqueue_if_disabled() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            DECLARE
                template_enabled_by_default boolean;
                preference_disabled boolean;
            BEGIN
                SELECT enabled_by_default INTO template_enabled_by_default
                    FROM public.notification_templates WHERE id = NEW.notification_template_id;
                -- An unknown template is left to the foreign key.
                IF NOT FOUND THEN
                    RETURN NEW;
                END IF;

                SELECT disabled INTO preference_disabled
                    FROM public.notification_preferences
                    WHERE user_id = NEW.user_id AND notification_template_id = NEW.notification_template_id;
                -- The user's own preference wins over the template's default, both ways.
                IF (FOUND AND preference_disabled) OR (NOT FOUND AND NOT template_enabled_by_default) THEN
                    RAISE EXCEPTION 'cannot enqueue message: notification is not enabled';
                END IF;
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER inhibit_enqueue_if_disabled BEFORE INSERT ON public.notification_messages
                FOR EACH ROW EXECUTE FUNCTION public.inhibit_enqueue_if_disabled()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.compute_notification_message_dedupe_hash() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- concat_ws drops NULL parts (targets may be NULL) but keeps empty ones. The day is
                -- taken in UTC and formatted with to_char, so neither the session's TimeZone nor its
                -- DateStyle changes the hash.
                NEW.dedupe_hash := md5(concat_ws(':',
                    NEW.notification_template_id::text,
                    NEW.user_id::text,
                    NEW.method::text,
                    NEW.payload::text,
                    array_to_string(NEW.targets, ','),
                    to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' 00:00:00'));
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            COMMENT ON FUNCTION public.compute_notification_message_dedupe_hash() IS
                'Stamps dedupe_hash: the MD5 of template, user, method, payload, targets and the UTC day of created_at, so the unique index refuses a repeat of the same message on the same day.'
            """);
        Execute.Sql("""
            CREATE TRIGGER update_notification_message_dedupe_hash BEFORE INSERT OR UPDATE ON public.notification_messages
                FOR EACH ROW EXECUTE FUNCTION public.compute_notification_message_dedupe_hash()
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP TRIGGER update_notification_message_dedupe_hash ON public.notification_messages");
        Execute.Sql("DROP FUNCTION public.compute_notification_message_dedupe_hash()");
        Execute.Sql("DROP TRIGGER inhibit_enqueue_if_disabled ON public.notification_messages");
        Execute.Sql("DROP FUNCTION public.inhibit_enqueue_if_disabled()");
    }
}

using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Notifications: templates, queued messages and per-user preferences, the report generator's log,
/// inbox notifications, and browser push subscriptions.
/// </summary>
[Migration(2026_01_12_0009, "Create notification templates, messages and preferences, inbox notifications and web push subscriptions")]
internal sealed class M2026_01_12_0009_CreateNotificationsAndInbox : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("notification_method", "smtp", "webhook", "inbox");
        CreateEnum("notification_template_kind", "system", "custom");
        CreateEnum("notification_message_status", "pending", "leased", "sent", "permanent_failure", "temporary_failure", "unknown", "inhibited");
        CreateEnum("inbox_notification_read_status", "all", "unread", "read");

        Create.Table("notification_templates")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("notification_templates_pkey")
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("title_template").AsString().NotNullable()
            .WithColumn("body_template").AsString().NotNullable()
            .WithColumn("actions").AsCustom("jsonb").Nullable()
            .WithColumn("group").AsString().Nullable()
            .WithColumn("method").AsCustom("notification_method").Nullable()
            .WithColumn("kind").AsCustom("notification_template_kind").NotNullable().WithDefaultValue("system")
            .WithColumn("enabled_by_default").AsBoolean().NotNullable().WithDefaultValue(true);
        Describe("notification_templates", "A kind of notification, with the templates its title and body are rendered from.",
            ("actions", "JSON array of buttons shown with the notification."),
            ("group", "Heading the template is listed under in the preferences; NULL for none."),
            ("method", "Delivery method; NULL for the deployment default."),
            ("enabled_by_default", "True if users receive it unless they opt out."));
        Create.UniqueConstraint("notification_templates_name_key").OnTable("notification_templates").Column("name");

        Create.Table("notification_messages")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("notification_messages_pkey")
            .WithColumn("notification_template_id").AsGuid().NotNullable()
                .ForeignKey("notification_messages_notification_template_id_fkey", "notification_templates", "id").OnDelete(Rule.Cascade)
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("notification_messages_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("method").AsCustom("notification_method").NotNullable()
            .WithColumn("status").AsCustom("notification_message_status").NotNullable().WithDefaultValue("pending")
            .WithColumn("status_reason").AsString().Nullable()
            .WithColumn("created_by").AsString().NotNullable()
            .WithColumn("payload").AsCustom("jsonb").NotNullable()
            .WithColumn("attempt_count").AsInt32().Nullable().WithDefaultValue(0)
            .WithColumn("targets").AsCustom("uuid[]").Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("updated_at").AsDateTimeOffset().Nullable()
            .WithColumn("leased_until").AsDateTimeOffset().Nullable()
            .WithColumn("next_retry_after").AsDateTimeOffset().Nullable()
            .WithColumn("queued_seconds").AsDouble().Nullable()
            .WithColumn("dedupe_hash").AsString().Nullable();
        Describe("notification_messages", "A notification queued for delivery to one user.",
            ("status_reason", "Why the message has its status; NULL if unremarkable."),
            ("created_by", "Component that enqueued the message."),
            ("payload", "Data the templates are rendered with, as JSON."),
            ("attempt_count", "Delivery attempts so far."),
            ("targets", "Ids of the resources the notification is about."),
            ("leased_until", "Until when a notifier holds the message; NULL when none does."),
            ("next_retry_after", "Earliest time of the next attempt; NULL for now."),
            ("queued_seconds", "Seconds the message waited before its last attempt."),
            ("dedupe_hash", "Hash that keeps identical messages from being sent twice on one day."));
        Create.Index("idx_notification_messages_status").OnTable("notification_messages")
            .OnColumn("status").Ascending();
        Create.Index("notification_messages_dedupe_hash_idx").OnTable("notification_messages")
            .OnColumn("dedupe_hash").Ascending().WithOptions().Unique();

        Create.Table("notification_preferences")
            .WithColumn("user_id").AsGuid().NotNullable().PrimaryKey("notification_preferences_pkey")
                .ForeignKey("notification_preferences_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("notification_template_id").AsGuid().NotNullable().PrimaryKey("notification_preferences_pkey")
                .ForeignKey("notification_preferences_notification_template_id_fkey", "notification_templates", "id").OnDelete(Rule.Cascade)
            .WithColumn("disabled").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp);
        Describe("notification_preferences", "A user's choice to turn one kind of notification off or on.");

        Create.Table("notification_report_generator_logs")
            .WithColumn("notification_template_id").AsGuid().NotNullable().PrimaryKey("notification_report_generator_logs_pkey")
            .WithColumn("last_generated_at").AsDateTimeOffset().NotNullable();
        Describe("notification_report_generator_logs", "When a periodic report was last generated, per notification template.");

        Create.Table("inbox_notifications")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("inbox_notifications_pkey")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("inbox_notifications_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("template_id").AsGuid().NotNullable()
                .ForeignKey("inbox_notifications_template_id_fkey", "notification_templates", "id").OnDelete(Rule.Cascade)
            .WithColumn("targets").AsCustom("uuid[]").Nullable()
            .WithColumn("title").AsString().NotNullable()
            .WithColumn("content").AsString().NotNullable()
            .WithColumn("icon").AsString().NotNullable()
            .WithColumn("actions").AsCustom("jsonb").NotNullable()
            .WithColumn("read_at").AsDateTimeOffset().Nullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("inbox_notifications", "A notification in a user's inbox.",
            ("targets", "Ids of the resources the notification is about."),
            ("actions", "JSON array of buttons shown with the notification."),
            ("read_at", "When the user read it; NULL while unread."));
        Create.Index("idx_inbox_notifications_user_id_read_at").OnTable("inbox_notifications")
            .OnColumn("user_id").Ascending().OnColumn("read_at").Ascending();
        Create.Index("idx_inbox_notifications_user_id_template_id_targets").OnTable("inbox_notifications")
            .OnColumn("user_id").Ascending().OnColumn("template_id").Ascending().OnColumn("targets").Ascending();

        Create.Table("webpush_subscriptions")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("webpush_subscriptions_pkey")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("webpush_subscriptions_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("endpoint").AsString().NotNullable()
            .WithColumn("endpoint_p256dh_key").AsString().NotNullable()
            .WithColumn("endpoint_auth_key").AsString().NotNullable();
        Describe("webpush_subscriptions", "A browser's subscription to push notifications for a user.",
            ("endpoint", "Push service URL of the subscription."),
            ("endpoint_p256dh_key", "Browser's public key (P-256) for encrypting messages."),
            ("endpoint_auth_key", "Browser's authentication secret for the push messages."));
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("webpush_subscriptions");
        Delete.Table("inbox_notifications");
        Delete.Table("notification_report_generator_logs");
        Delete.Table("notification_preferences");
        Delete.Table("notification_messages");
        Delete.Table("notification_templates");
        DropType("inbox_notification_read_status");
        DropType("notification_message_status");
        DropType("notification_template_kind");
        DropType("notification_method");
    }
}

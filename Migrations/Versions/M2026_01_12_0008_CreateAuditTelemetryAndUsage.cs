using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// What the deployment records about itself: audit and connection logs, telemetry items and the
/// telemetry locks, usage events and their daily totals, and template and
/// boundary usage stats.
/// </summary>
[Migration(2026_01_12_0008, "Create audit and connection logs, telemetry, usage events and usage stats")]
internal sealed class M2026_01_12_0008_CreateAuditTelemetryAndUsage : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("audit_action",
            "create", "write", "delete", "start", "stop", "login", "logout", "register", "request_password_reset",
            "connect", "disconnect", "open", "close");
        CreateEnum("resource_type",
            "organization", "template", "template_version", "user", "workspace", "git_ssh_key", "api_key",
            "group", "workspace_build", "license", "workspace_proxy", "convert_login", "health_settings",
            "oauth2_provider_app", "oauth2_provider_app_secret", "custom_role", "organization_member",
            "notifications_settings", "notification_template", "idp_sync_settings_organization", "idp_sync_settings_group",
            "idp_sync_settings_role", "workspace_agent", "workspace_app", "prebuilds_settings", "task",
            "ai_seat");
        CreateEnum("connection_type", "ssh", "vscode", "jetbrains", "reconnecting_pty", "workspace_app", "port_forwarding");
        CreateEnum("connection_status", "connected", "disconnected");

        Create.Table("audit_logs")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("audit_logs_pkey")
            .WithColumn("time").AsDateTimeOffset().NotNullable()
            .WithColumn("user_id").AsGuid().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
            .WithColumn("ip").AsCustom("inet").Nullable()
            .WithColumn("user_agent").AsString(256).Nullable()
            .WithColumn("resource_type").AsCustom("resource_type").NotNullable()
            .WithColumn("resource_id").AsGuid().NotNullable()
            .WithColumn("resource_target").AsString().NotNullable()
            .WithColumn("action").AsCustom("audit_action").NotNullable()
            .WithColumn("diff").AsCustom("jsonb").NotNullable()
            .WithColumn("status_code").AsInt32().NotNullable()
            .WithColumn("additional_fields").AsCustom("jsonb").NotNullable()
            .WithColumn("request_id").AsGuid().NotNullable()
            .WithColumn("resource_icon").AsString().NotNullable();
        Describe("audit_logs", "An audited change to a resource.",
            ("resource_target", "Human-readable name of the resource."),
            ("diff", "JSON object of the changed fields, old and new."),
            ("status_code", "HTTP status of the request that made the change."),
            ("additional_fields", "Extra details of the action, as JSON."),
            ("resource_icon", "Icon of the resource for the UI."));
        Create.Index("idx_audit_log_organization_id").OnTable("audit_logs").OnColumn("organization_id").Ascending();
        Create.Index("idx_audit_log_resource_id").OnTable("audit_logs").OnColumn("resource_id").Ascending();
        Create.Index("idx_audit_log_user_id").OnTable("audit_logs").OnColumn("user_id").Ascending();
        Create.Index("idx_audit_logs_time_desc").OnTable("audit_logs").OnColumn("time").Descending();

        Create.Table("connection_logs")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("connection_logs_pkey")
            .WithColumn("connect_time").AsDateTimeOffset().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("connection_logs_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_owner_id").AsGuid().NotNullable()
                .ForeignKey("connection_logs_workspace_owner_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_id").AsGuid().NotNullable()
                .ForeignKey("connection_logs_workspace_id_fkey", "workspaces", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_name").AsString().NotNullable()
            .WithColumn("agent_name").AsString().NotNullable()
            .WithColumn("type").AsCustom("connection_type").NotNullable()
            .WithColumn("ip").AsCustom("inet").Nullable()
            .WithColumn("code").AsInt32().Nullable()
            .WithColumn("user_agent").AsString().Nullable()
            .WithColumn("user_id").AsGuid().Nullable()
            .WithColumn("slug_or_port").AsString().Nullable()
            .WithColumn("connection_id").AsGuid().Nullable()
            .WithColumn("disconnect_time").AsDateTimeOffset().Nullable()
            .WithColumn("disconnect_reason").AsString().Nullable();
        Describe("connection_logs", "A connection to a workspace (SSH, app, port forward and so on), with how and when it ended.",
            ("code", "Exit or HTTP status code; NULL while unknown."),
            ("slug_or_port", "The app's slug, or the port for port-forwarded traffic; NULL for other types."),
            ("connection_id", "Id that joins the connect and disconnect events of one connection."),
            ("disconnect_time", "When the connection ended; NULL while open or if unknown."));
        Create.Index("idx_connection_logs_connect_time_desc").OnTable("connection_logs")
            .OnColumn("connect_time").Descending();
        Create.Index("idx_connection_logs_connection_id_workspace_id_agent_name").OnTable("connection_logs")
            .OnColumn("connection_id").Ascending().OnColumn("workspace_id").Ascending().OnColumn("agent_name").Ascending().WithOptions().Unique();
        Create.Index("idx_connection_logs_organization_id").OnTable("connection_logs")
            .OnColumn("organization_id").Ascending();
        Create.Index("idx_connection_logs_workspace_id").OnTable("connection_logs")
            .OnColumn("workspace_id").Ascending();
        Create.Index("idx_connection_logs_workspace_owner_id").OnTable("connection_logs")
            .OnColumn("workspace_owner_id").Ascending();

        Create.Table("telemetry_items")
            .WithColumn("key").AsString().NotNullable().PrimaryKey("telemetry_items_pkey")
            .WithColumn("value").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("telemetry_items", "A value coderd keeps for telemetry reporting, by key.");

        Create.Table("telemetry_locks")
            .WithColumn("event_type").AsString().NotNullable().PrimaryKey("telemetry_locks_pkey")
            .WithColumn("period_ending_at").AsDateTimeOffset().NotNullable().PrimaryKey("telemetry_locks_pkey");
        Describe("telemetry_locks", "A claim that one replica reports a telemetry event for a period, so it is sent once.",
            ("period_ending_at", "End of the period the report covers."));
        AddCheck("telemetry_locks", "telemetry_lock_event_type_constraint",
            "event_type IN ('aibridge_interceptions_summary', 'boundary_usage_summary')");
        Create.Index("idx_telemetry_locks_period_ending_at").OnTable("telemetry_locks")
            .OnColumn("period_ending_at").Ascending();

        Create.Table("usage_events")
            .WithColumn("id").AsString().NotNullable().PrimaryKey("usage_events_pkey")
            .WithColumn("event_type").AsString().NotNullable()
            .WithColumn("event_data").AsCustom("jsonb").NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("publish_started_at").AsDateTimeOffset().Nullable()
            .WithColumn("published_at").AsDateTimeOffset().Nullable()
            .WithColumn("failure_message").AsString().Nullable();
        Describe("usage_events", "A billable usage event, kept until it is published.",
            ("event_data", "Event details as JSON; their shape depends on event_type."),
            ("publish_started_at", "When publishing began; NULL if not yet."),
            ("published_at", "When the event was published; NULL if not yet."),
            ("failure_message", "Why publishing last failed; NULL if it has not."));
        AddCheck("usage_events", "usage_event_type_check", "event_type IN ('dc_managed_agents_v1', 'hb_ai_seats_v1')");
        CreateIndex("idx_usage_events_ai_seats", "usage_events",
            "(event_type, created_at)", where: "event_type = 'hb_ai_seats_v1'");
        Create.Index("idx_usage_events_select_for_publishing").OnTable("usage_events")
            .OnColumn("published_at").Ascending().OnColumn("publish_started_at").Ascending().OnColumn("created_at").Ascending();

        Create.Table("usage_events_daily")
            .WithColumn("day").AsDate().NotNullable().PrimaryKey("usage_events_daily_pkey")
            .WithColumn("event_type").AsString().NotNullable().PrimaryKey("usage_events_daily_pkey")
            .WithColumn("usage_data").AsCustom("jsonb").NotNullable();
        Describe("usage_events_daily", "Usage events summed per day and event type.",
            ("usage_data", "The day's totals as JSON."));

        Create.Table("template_usage_stats")
            .WithColumn("start_time").AsDateTimeOffset().NotNullable().PrimaryKey("template_usage_stats_pkey")
            .WithColumn("end_time").AsDateTimeOffset().NotNullable()
            .WithColumn("template_id").AsGuid().NotNullable().PrimaryKey("template_usage_stats_pkey")
            .WithColumn("user_id").AsGuid().NotNullable().PrimaryKey("template_usage_stats_pkey")
            .WithColumn("median_latency_ms").AsFloat().Nullable()
            .WithColumn("usage_mins").AsInt16().NotNullable()
            .WithColumn("ssh_mins").AsInt16().NotNullable()
            .WithColumn("sftp_mins").AsInt16().NotNullable()
            .WithColumn("reconnecting_pty_mins").AsInt16().NotNullable()
            .WithColumn("vscode_mins").AsInt16().NotNullable()
            .WithColumn("jetbrains_mins").AsInt16().NotNullable()
            .WithColumn("app_usage_mins").AsCustom("jsonb").Nullable();
        Describe("template_usage_stats", "Usage of one template by one user in one time bucket.",
            ("median_latency_ms", "Median connection latency in milliseconds; NULL if none was measured."),
            ("usage_mins", "Minutes of any use in the bucket."),
            ("app_usage_mins", "JSON object from app name to minutes of use."));
        Create.Index("template_usage_stats_start_time_idx").OnTable("template_usage_stats")
            .OnColumn("start_time").Descending();
        Create.Index("template_usage_stats_start_time_template_id_user_id_idx").OnTable("template_usage_stats")
            .OnColumn("start_time").Ascending().OnColumn("template_id").Ascending().OnColumn("user_id").Ascending().WithOptions().Unique();

        Create.Table("boundary_usage_stats")
            .WithColumn("replica_id").AsGuid().NotNullable().PrimaryKey("boundary_usage_stats_pkey")
            .WithColumn("unique_workspaces_count").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("unique_users_count").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("allowed_requests").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("denied_requests").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("window_start").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("boundary_usage_stats", "Counts of requests allowed and denied by agent network boundaries, per replica and time window.",
            ("window_start", "Start of the time window counted."));
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("boundary_usage_stats");
        Delete.Table("template_usage_stats");
        Delete.Table("usage_events_daily");
        Delete.Table("usage_events");
        Delete.Table("telemetry_locks");
        Delete.Table("telemetry_items");
        Delete.Table("connection_logs");
        Delete.Table("audit_logs");
        DropType("connection_status");
        DropType("connection_type");
        DropType("resource_type");
        DropType("audit_action");
    }
}

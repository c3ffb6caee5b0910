using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Workspace apps with their statuses, usage stats and audit sessions, ports shared from an agent,
/// and workspace proxies.
/// </summary>
[Migration(2026_01_12_0007, "Create workspace apps, app statuses and stats, shared ports and workspace proxies")]
internal sealed class M2026_01_12_0007_CreateAppsPortsAndProxies : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("workspace_app_health", "disabled", "initializing", "healthy", "unhealthy");
        CreateEnum("workspace_app_open_in", "tab", "window", "slim-window");
        CreateEnum("workspace_app_status_state", "working", "complete", "failure", "idle");
        CreateEnum("port_share_protocol", "http", "https");

        Create.Table("workspace_apps")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_apps_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_apps_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("display_name").AsString(64).NotNullable()
            .WithColumn("icon").AsString(256).NotNullable()
            .WithColumn("command").AsString(65534).Nullable()
            .WithColumn("url").AsString(65534).Nullable()
            .WithColumn("healthcheck_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("healthcheck_interval").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("healthcheck_threshold").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("health").AsCustom("workspace_app_health").NotNullable().WithDefaultValue("disabled")
            .WithColumn("subdomain").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("sharing_level").AsCustom("app_sharing_level").NotNullable().WithDefaultValue("owner")
            .WithColumn("slug").AsString().NotNullable()
            .WithColumn("external").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("display_order").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("hidden").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("open_in").AsCustom("workspace_app_open_in").NotNullable().WithDefaultValue("slim-window")
            .WithColumn("display_group").AsString().Nullable()
            .WithColumn("tooltip").AsString(2048).NotNullable().WithDefaultValue("");
        Describe("workspace_apps", "An app a workspace agent exposes, such as a web IDE.",
            ("command", "Command to run for a terminal app; NULL for a web app."),
            ("url", "Address the app is served from inside the workspace; NULL for a command app."),
            ("healthcheck_url", "URL polled to check the app's health; empty for none."),
            ("healthcheck_interval", "Seconds between health checks."),
            ("healthcheck_threshold", "Failed checks in a row before the app is unhealthy."),
            ("subdomain", "True to serve the app on its own subdomain."),
            ("sharing_level", "Who besides the owner may open the app."),
            ("external", "True if the URL is opened directly instead of through coderd."),
            ("hidden", "True to hide the app in the UI."),
            ("open_in", "Where the UI opens the app."),
            ("display_group", "Name of the UI group the app is listed under; NULL for none."));
        Create.UniqueConstraint("workspace_apps_agent_id_slug_idx")
            .OnTable("workspace_apps").Columns("agent_id", "slug");

        Create.Table("workspace_app_statuses")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("workspace_app_statuses_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_statuses_agent_id_fkey", "workspace_agents", "id")
            .WithColumn("app_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_statuses_app_id_fkey", "workspace_apps", "id")
            .WithColumn("workspace_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_statuses_workspace_id_fkey", "workspaces", "id")
            .WithColumn("state").AsCustom("workspace_app_status_state").NotNullable()
            .WithColumn("message").AsString().NotNullable()
            .WithColumn("uri").AsString().Nullable();
        Describe("workspace_app_statuses", "A status an app (for example an AI agent) reported about its work.",
            ("uri", "Link to something the status refers to; NULL for none."));
        Create.Index("idx_workspace_app_statuses_workspace_id_created_at").OnTable("workspace_app_statuses")
            .OnColumn("workspace_id").Ascending().OnColumn("created_at").Descending();
        Create.Index("workspace_app_statuses_app_id_idx").OnTable("workspace_app_statuses")
            .OnColumn("app_id").Ascending().OnColumn("created_at").Descending();

        CreateSequence("workspace_app_stats_id_seq", "bigint");
        Create.Table("workspace_app_stats")
            .WithColumn("id").AsInt64().NotNullable().WithDefaultValue(NextValue("workspace_app_stats_id_seq")).PrimaryKey("workspace_app_stats_pkey")
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_stats_user_id_fkey", "users", "id")
            .WithColumn("workspace_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_stats_workspace_id_fkey", "workspaces", "id")
            .WithColumn("agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_stats_agent_id_fkey", "workspace_agents", "id")
            .WithColumn("access_method").AsString().NotNullable()
            .WithColumn("slug_or_port").AsString().NotNullable()
            .WithColumn("session_id").AsGuid().NotNullable()
            .WithColumn("session_started_at").AsDateTimeOffset().NotNullable()
            .WithColumn("session_ended_at").AsDateTimeOffset().NotNullable()
            .WithColumn("requests").AsInt32().NotNullable();
        Describe("workspace_app_stats", "Usage of a workspace app within one session.",
            ("access_method", "How the app was reached, for example path or subdomain."),
            ("slug_or_port", "The app's slug, or the port for port-forwarded traffic."),
            ("requests", "Requests made during the session."));
        OwnSequence("workspace_app_stats_id_seq", "workspace_app_stats", "id");
        Create.UniqueConstraint("workspace_app_stats_user_id_agent_id_session_id_key")
            .OnTable("workspace_app_stats").Columns("user_id", "agent_id", "session_id");
        Create.Index("workspace_app_stats_workspace_id_idx").OnTable("workspace_app_stats")
            .OnColumn("workspace_id").Ascending();

        Create.Table("workspace_app_audit_sessions")
            .WithColumn("agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_app_audit_sessions_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("app_id").AsGuid().NotNullable()
            .WithColumn("user_id").AsGuid().NotNullable()
            .WithColumn("ip").AsString().NotNullable()
            .WithColumn("user_agent").AsString().NotNullable()
            .WithColumn("slug_or_port").AsString().NotNullable()
            .WithColumn("status_code").AsInt32().NotNullable()
            .WithColumn("started_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_app_audit_sessions_pkey");
        Describe("workspace_app_audit_sessions", "A user's session with a workspace app, kept to avoid one audit entry per request.",
            ("slug_or_port", "The app's slug, or the port for port-forwarded traffic."),
            ("status_code", "HTTP status code recorded for the session."));
        Create.UniqueConstraint("workspace_app_audit_sessions_agent_id_app_id_user_id_ip_use_key")
            .OnTable("workspace_app_audit_sessions").Columns("agent_id", "app_id", "user_id", "ip", "user_agent", "slug_or_port", "status_code");
        Create.Index("workspace_app_audit_sessions_unique_index").OnTable("workspace_app_audit_sessions")
            .OnColumn("agent_id").Ascending().OnColumn("app_id").Ascending().OnColumn("user_id").Ascending().OnColumn("ip").Ascending().OnColumn("user_agent").Ascending().OnColumn("slug_or_port").Ascending().OnColumn("status_code").Ascending().WithOptions().Unique();

        Create.Table("workspace_agent_port_share")
            .WithColumn("workspace_id").AsGuid().NotNullable().PrimaryKey("workspace_agent_port_share_pkey")
                .ForeignKey("workspace_agent_port_share_workspace_id_fkey", "workspaces", "id").OnDelete(Rule.Cascade)
            .WithColumn("agent_name").AsString().NotNullable().PrimaryKey("workspace_agent_port_share_pkey")
            .WithColumn("port").AsInt32().NotNullable().PrimaryKey("workspace_agent_port_share_pkey")
            .WithColumn("share_level").AsCustom("app_sharing_level").NotNullable()
            .WithColumn("protocol").AsCustom("port_share_protocol").NotNullable().WithDefaultValue("http");
        Describe("workspace_agent_port_share", "A port of a workspace agent shared with other users.",
            ("share_level", "Who may open the port."));

        CreateSequence("workspace_proxies_region_id_seq", "integer");
        Create.Table("workspace_proxies")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_proxies_pkey")
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("display_name").AsString().NotNullable()
            .WithColumn("icon").AsString().NotNullable()
            .WithColumn("url").AsString().NotNullable()
            .WithColumn("wildcard_hostname").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("deleted").AsBoolean().NotNullable()
            .WithColumn("token_hashed_secret").AsBinary().NotNullable()
            .WithColumn("region_id").AsInt32().NotNullable().WithDefaultValue(NextValue("workspace_proxies_region_id_seq"))
            .WithColumn("derp_enabled").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("derp_only").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("version").AsString().NotNullable().WithDefaultValue("");
        Describe("workspace_proxies", "A workspace proxy: a regional relay for workspace app and terminal traffic.",
            ("url", "Address users reach the proxy at."),
            ("wildcard_hostname", "Wildcard host name for subdomain apps served by the proxy."),
            ("deleted", "Soft delete: the row stays for history."),
            ("token_hashed_secret", "Hash of the proxy's authentication token."),
            ("region_id", "Region id of the proxy in the DERP map."),
            ("derp_enabled", "True if the proxy runs a DERP relay."),
            ("derp_only", "True if the proxy serves only as a DERP relay."));
        OwnSequence("workspace_proxies_region_id_seq", "workspace_proxies", "region_id");
        Create.UniqueConstraint("workspace_proxies_region_id_unique").OnTable("workspace_proxies").Column("region_id");
        CreateIndex("workspace_proxies_lower_name_idx", "workspace_proxies",
            "(lower(name))", unique: true, where: "deleted = false");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("workspace_proxies");
        Delete.Table("workspace_agent_port_share");
        Delete.Table("workspace_app_audit_sessions");
        Delete.Table("workspace_app_stats");
        Delete.Table("workspace_app_statuses");
        Delete.Table("workspace_apps");
        DropType("port_share_protocol");
        DropType("workspace_app_status_state");
        DropType("workspace_app_open_in");
        DropType("workspace_app_health");
    }
}

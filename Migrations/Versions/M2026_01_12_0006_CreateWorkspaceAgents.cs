using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Workspace agents and what they report: log sources and logs, metadata, startup scripts and
/// their timings, devcontainers, memory and volume monitors, connection stats, and JFrog Xray
/// scan results.
/// </summary>
[Migration(2026_01_12_0006, "Create workspace agents, their logs, metadata, scripts, devcontainers, monitors and stats")]
internal sealed class M2026_01_12_0006_CreateWorkspaceAgents : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("workspace_agent_lifecycle_state", "created", "starting", "start_timeout", "start_error", "ready", "shutting_down", "shutdown_timeout", "shutdown_error", "off");
        CreateEnum("workspace_agent_subsystem", "envbuilder", "envbox", "none", "exectrace");
        CreateEnum("display_app", "vscode", "vscode_insiders", "web_terminal", "ssh_helper", "port_forwarding_helper");
        CreateEnum("agent_key_scope_enum", "all", "no_user_data");
        CreateEnum("startup_script_behavior", "blocking", "non-blocking");
        CreateEnum("workspace_agent_monitor_state", "OK", "NOK");
        CreateEnum("workspace_agent_script_timing_stage", "start", "stop", "cron");
        CreateEnum("workspace_agent_script_timing_status", "ok", "exit_failure", "timed_out", "pipes_left_open");
        CreateCompositeType("agent_id_name_pair", "id uuid", "name text");

        Create.Table("workspace_agents")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_agents_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("first_connected_at").AsDateTimeOffset().Nullable()
            .WithColumn("last_connected_at").AsDateTimeOffset().Nullable()
            .WithColumn("disconnected_at").AsDateTimeOffset().Nullable()
            .WithColumn("resource_id").AsGuid().NotNullable()
                .ForeignKey("workspace_agents_resource_id_fkey", "workspace_resources", "id").OnDelete(Rule.Cascade)
            .WithColumn("auth_token").AsGuid().NotNullable()
            .WithColumn("auth_instance_id").AsCustom("character varying").Nullable()
            .WithColumn("architecture").AsString(64).NotNullable()
            .WithColumn("environment_variables").AsCustom("jsonb").Nullable()
            .WithColumn("operating_system").AsString(64).NotNullable()
            .WithColumn("instance_metadata").AsCustom("jsonb").Nullable()
            .WithColumn("resource_metadata").AsCustom("jsonb").Nullable()
            .WithColumn("directory").AsString(4096).NotNullable().WithDefaultValue("")
            .WithColumn("version").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("last_connected_replica_id").AsGuid().Nullable()
            .WithColumn("connection_timeout_seconds").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("troubleshooting_url").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("motd_file").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("lifecycle_state").AsCustom("workspace_agent_lifecycle_state").NotNullable().WithDefaultValue("created")
            .WithColumn("expanded_directory").AsString(4096).NotNullable().WithDefaultValue("")
            .WithColumn("logs_length").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("logs_overflowed").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("started_at").AsDateTimeOffset().Nullable()
            .WithColumn("ready_at").AsDateTimeOffset().Nullable()
            .WithColumn("subsystems").AsCustom("workspace_agent_subsystem[]").Nullable().WithDefaultValue("{}")
            .WithColumn("display_apps").AsCustom("display_app[]").Nullable().WithDefaultValue("{vscode,vscode_insiders,web_terminal,ssh_helper,port_forwarding_helper}")
            .WithColumn("api_version").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("display_order").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("parent_id").AsGuid().Nullable()
                .ForeignKey("workspace_agents_parent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("api_key_scope").AsCustom("agent_key_scope_enum").NotNullable().WithDefaultValue("all")
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false);
        Describe("workspace_agents", "An agent running inside a workspace resource, through which users connect.",
            ("first_connected_at", "First connection of the agent; NULL if never."),
            ("last_connected_at", "Latest connection of the agent; NULL if never."),
            ("disconnected_at", "When the agent last disconnected; NULL if it has not."),
            ("auth_token", "Token the agent authenticates with."),
            ("auth_instance_id", "Cloud instance id the agent may authenticate with instead; NULL if unused."),
            ("environment_variables", "JSON object of variables set for the agent's processes."),
            ("instance_metadata", "Metadata of the cloud instance, as JSON."),
            ("resource_metadata", "Metadata of the resource the agent runs on, as JSON."),
            ("directory", "Working directory as configured."),
            ("last_connected_replica_id", "The coderd replica the agent last connected to; NULL if never."),
            ("connection_timeout_seconds", "Seconds to wait for the agent to connect before it is reported as timed out."),
            ("troubleshooting_url", "Link shown to users when the agent has problems."),
            ("motd_file", "Path of the message-of-the-day file shown at login."),
            ("expanded_directory", "directory with variables and ~ expanded, as the agent reports it."),
            ("logs_length", "Total bytes of startup log output stored for the agent, at most 1 MiB."),
            ("logs_overflowed", "True once startup logs were cut at the size limit."),
            ("started_at", "When the agent began its startup scripts; NULL before."),
            ("ready_at", "When the agent finished starting; NULL before."),
            ("subsystems", "Subsystems the agent runs under; never contains none."),
            ("display_apps", "Built-in apps shown for the agent."),
            ("display_order", "Position among the workspace's agents in the UI."),
            ("parent_id", "The agent this one runs under (for example a devcontainer); NULL for a top-level agent."),
            ("api_key_scope", "What the agent's API key may do."),
            ("deleted", "Soft delete: the row stays for history."));
        AddCheck("workspace_agents", "max_logs_length", "logs_length <= 1048576");
        // NULL and '{}' pass: 'none' = ANY of them is NULL or false.
        AddCheck("workspace_agents", "subsystems_not_none",
            "NOT ('none'::workspace_agent_subsystem = ANY (subsystems))");
        Create.Index("workspace_agents_auth_instance_id_deleted_idx").OnTable("workspace_agents")
            .OnColumn("auth_instance_id").Ascending().OnColumn("deleted").Ascending();
        Create.Index("workspace_agents_auth_token_idx").OnTable("workspace_agents").OnColumn("auth_token").Ascending();
        Create.Index("workspace_agents_resource_id_idx").OnTable("workspace_agents")
            .OnColumn("resource_id").Ascending();

        Create.Table("workspace_agent_log_sources")
            .WithColumn("workspace_agent_id").AsGuid().NotNullable().PrimaryKey("workspace_agent_log_sources_pkey")
                .ForeignKey("workspace_agent_log_sources_workspace_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_agent_log_sources_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("display_name").AsString(127).NotNullable()
            .WithColumn("icon").AsString().NotNullable();
        Describe("workspace_agent_log_sources", "A source of workspace agent logs, such as one startup script.");

        // The sequence keeps the name it had when this table was workspace_agent_startup_logs.
        CreateSequence("workspace_agent_startup_logs_id_seq", "bigint");
        Create.Table("workspace_agent_logs")
            .WithColumn("agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_agent_startup_logs_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("output").AsString(1024).NotNullable()
            .WithColumn("id").AsInt64().NotNullable().WithDefaultValue(NextValue("workspace_agent_startup_logs_id_seq")).PrimaryKey("workspace_agent_startup_logs_pkey")
            .WithColumn("level").AsCustom("log_level").NotNullable().WithDefaultValue("info")
            .WithColumn("log_source_id").AsGuid().NotNullable().WithDefaultValue("00000000-0000-0000-0000-000000000000");
        Describe("workspace_agent_logs", "A line of log output from a workspace agent.");
        OwnSequence("workspace_agent_startup_logs_id_seq", "workspace_agent_logs", "id");
        Create.Index("workspace_agent_startup_logs_id_agent_id_idx").OnTable("workspace_agent_logs")
            .OnColumn("agent_id").Ascending().OnColumn("id").Ascending();

        Create.Table("workspace_agent_metadata")
            .WithColumn("workspace_agent_id").AsGuid().NotNullable().PrimaryKey("workspace_agent_metadata_pkey")
                .ForeignKey("workspace_agent_metadata_workspace_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("display_name").AsString(127).NotNullable()
            .WithColumn("key").AsString(127).NotNullable().PrimaryKey("workspace_agent_metadata_pkey")
            .WithColumn("script").AsString(65535).NotNullable()
            .WithColumn("value").AsString(65535).NotNullable().WithDefaultValue("")
            .WithColumn("error").AsString(65535).NotNullable().WithDefaultValue("")
            .WithColumn("timeout").AsInt64().NotNullable()
            .WithColumn("interval").AsInt64().NotNullable()
            .WithColumn("collected_at").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("display_order").AsInt32().NotNullable().WithDefaultValue(0);
        Describe("workspace_agent_metadata", "A metadata item a workspace agent collects by running a script.",
            ("error", "Error of the last run; empty if none."),
            ("timeout", "Seconds the script may run."),
            ("interval", "Seconds between runs."),
            ("collected_at", "When value was last collected."));

        // No primary key: id is made unique by a UNIQUE constraint instead, as in coderd's schema.
        Create.Table("workspace_agent_scripts")
            .WithColumn("workspace_agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_agent_scripts_workspace_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("log_source_id").AsGuid().NotNullable()
            .WithColumn("log_path").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("script").AsString().NotNullable()
            .WithColumn("cron").AsString().NotNullable()
            .WithColumn("start_blocks_login").AsBoolean().NotNullable()
            .WithColumn("run_on_start").AsBoolean().NotNullable()
            .WithColumn("run_on_stop").AsBoolean().NotNullable()
            .WithColumn("timeout_seconds").AsInt32().NotNullable()
            .WithColumn("display_name").AsString().NotNullable()
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid);
        Describe("workspace_agent_scripts", "A script a workspace agent runs at start, stop or on a schedule.",
            ("cron", "Cron expression for scheduled runs; empty for none."),
            ("start_blocks_login", "True if logins wait for this script to finish."),
            ("timeout_seconds", "Seconds the script may run; 0 for no limit."));
        Create.UniqueConstraint("workspace_agent_scripts_id_key").OnTable("workspace_agent_scripts").Column("id");
        Create.Index("workspace_agent_scripts_workspace_agent_id_idx").OnTable("workspace_agent_scripts")
            .OnColumn("workspace_agent_id").Ascending();

        // No primary key: a timing is identified by (script_id, started_at), its unique key.
        Create.Table("workspace_agent_script_timings")
            .WithColumn("script_id").AsGuid().NotNullable()
                .ForeignKey("workspace_agent_script_timings_script_id_fkey", "workspace_agent_scripts", "id").OnDelete(Rule.Cascade)
            .WithColumn("started_at").AsDateTimeOffset().NotNullable()
            .WithColumn("ended_at").AsDateTimeOffset().NotNullable()
            .WithColumn("exit_code").AsInt32().NotNullable()
            .WithColumn("stage").AsCustom("workspace_agent_script_timing_stage").NotNullable()
            .WithColumn("status").AsCustom("workspace_agent_script_timing_status").NotNullable();
        Describe("workspace_agent_script_timings", "How long one run of a workspace agent script took, and how it ended.");
        Create.UniqueConstraint("workspace_agent_script_timings_script_id_started_at_key")
            .OnTable("workspace_agent_script_timings").Columns("script_id", "started_at");

        Create.Table("workspace_agent_devcontainers")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_agent_devcontainers_pkey")
            .WithColumn("workspace_agent_id").AsGuid().NotNullable()
                .ForeignKey("workspace_agent_devcontainers_workspace_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("workspace_folder").AsString().NotNullable()
            .WithColumn("config_path").AsString().NotNullable()
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("subagent_id").AsGuid().Nullable()
                .ForeignKey("workspace_agent_devcontainers_subagent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade);
        Describe("workspace_agent_devcontainers", "A devcontainer configured for a workspace agent.",
            ("subagent_id", "The agent running inside the devcontainer; NULL until it exists."));
        Create.Index("workspace_agent_devcontainers_workspace_agent_id").OnTable("workspace_agent_devcontainers")
            .OnColumn("workspace_agent_id").Ascending();

        Create.Table("workspace_agent_memory_resource_monitors")
            .WithColumn("agent_id").AsGuid().NotNullable().PrimaryKey("workspace_agent_memory_resource_monitors_pkey")
                .ForeignKey("workspace_agent_memory_resource_monitors_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("enabled").AsBoolean().NotNullable()
            .WithColumn("threshold").AsInt32().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("state").AsCustom("workspace_agent_monitor_state").NotNullable().WithDefaultValue("OK")
            .WithColumn("debounced_until").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime);
        Describe("workspace_agent_memory_resource_monitors", "A memory usage alert configured for a workspace agent.",
            ("threshold", "Usage in percent above which the monitor alerts."),
            ("debounced_until", "Until when further alerts are held back."));

        Create.Table("workspace_agent_volume_resource_monitors")
            .WithColumn("agent_id").AsGuid().NotNullable().PrimaryKey("workspace_agent_volume_resource_monitors_pkey")
                .ForeignKey("workspace_agent_volume_resource_monitors_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("enabled").AsBoolean().NotNullable()
            .WithColumn("threshold").AsInt32().NotNullable()
            .WithColumn("path").AsString().NotNullable().PrimaryKey("workspace_agent_volume_resource_monitors_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("state").AsCustom("workspace_agent_monitor_state").NotNullable().WithDefaultValue("OK")
            .WithColumn("debounced_until").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime);
        Describe("workspace_agent_volume_resource_monitors", "A disk usage alert for one volume of a workspace agent.",
            ("threshold", "Usage in percent above which the monitor alerts."),
            ("debounced_until", "Until when further alerts are held back."));

        Create.Table("workspace_agent_stats")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("agent_stats_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("user_id").AsGuid().NotNullable()
            .WithColumn("agent_id").AsGuid().NotNullable()
            .WithColumn("workspace_id").AsGuid().NotNullable()
            .WithColumn("template_id").AsGuid().NotNullable()
            .WithColumn("connections_by_proto").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("connection_count").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("rx_packets").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("rx_bytes").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("tx_packets").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("tx_bytes").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("connection_median_latency_ms").AsDouble().NotNullable().WithDefaultValue(-1)
            .WithColumn("session_count_vscode").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("session_count_jetbrains").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("session_count_reconnecting_pty").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("session_count_ssh").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("usage").AsBoolean().NotNullable().WithDefaultValue(false);
        Describe("workspace_agent_stats", "Connection and traffic statistics a workspace agent reported for one interval.",
            ("connections_by_proto", "JSON object from protocol to connection count."),
            ("connection_median_latency_ms", "Median connection latency in milliseconds."));
        Create.Index("idx_agent_stats_created_at").OnTable("workspace_agent_stats").OnColumn("created_at").Ascending();
        Create.Index("idx_agent_stats_user_id").OnTable("workspace_agent_stats").OnColumn("user_id").Ascending();
        CreateIndex("workspace_agent_stats_template_id_created_at_user_id_idx", "workspace_agent_stats",
            "(template_id, created_at, user_id) INCLUDE (session_count_vscode, session_count_jetbrains, "
            + "session_count_reconnecting_pty, session_count_ssh, connection_median_latency_ms)",
            where: "connection_count > 0");

        Create.Table("jfrog_xray_scans")
            .WithColumn("agent_id").AsGuid().NotNullable().PrimaryKey("jfrog_xray_scans_pkey")
                .ForeignKey("jfrog_xray_scans_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_id").AsGuid().NotNullable().PrimaryKey("jfrog_xray_scans_pkey")
                .ForeignKey("jfrog_xray_scans_workspace_id_fkey", "workspaces", "id").OnDelete(Rule.Cascade)
            .WithColumn("critical").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("high").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("medium").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("results_url").AsString().NotNullable().WithDefaultValue("");
        Describe("jfrog_xray_scans", "Vulnerability counts of a JFrog Xray scan for a workspace agent's image.",
            ("results_url", "Link to the full scan report."));
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("jfrog_xray_scans");
        Delete.Table("workspace_agent_stats");
        Delete.Table("workspace_agent_volume_resource_monitors");
        Delete.Table("workspace_agent_memory_resource_monitors");
        Delete.Table("workspace_agent_devcontainers");
        Delete.Table("workspace_agent_script_timings");
        Delete.Table("workspace_agent_scripts");
        Delete.Table("workspace_agent_metadata");
        Delete.Table("workspace_agent_logs");
        Delete.Table("workspace_agent_log_sources");
        Delete.Table("workspace_agents");
        DropType("agent_id_name_pair");
        DropType("workspace_agent_script_timing_status");
        DropType("workspace_agent_script_timing_stage");
        DropType("workspace_agent_monitor_state");
        DropType("startup_script_behavior");
        DropType("agent_key_scope_enum");
        DropType("display_app");
        DropType("workspace_agent_subsystem");
        DropType("workspace_agent_lifecycle_state");
    }
}

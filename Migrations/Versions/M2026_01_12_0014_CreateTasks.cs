using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Tasks (an AI agent's job run in a workspace), their snapshots, and the workspace apps each task
/// build exposes.
/// </summary>
[Migration(2026_01_12_0014, "Create tasks, task snapshots and task workspace apps")]
internal sealed class M2026_01_12_0014_CreateTasks : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("task_status", "pending", "initializing", "active", "paused", "unknown", "error");

        Create.Table("tasks")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("tasks_pkey")
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("tasks_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("owner_id").AsGuid().NotNullable()
                .ForeignKey("tasks_owner_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("workspace_id").AsGuid().Nullable()
                .ForeignKey("tasks_workspace_id_fkey", "workspaces", "id").OnDelete(Rule.Cascade)
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("tasks_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("template_parameters").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("prompt").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("deleted_at").AsDateTimeOffset().Nullable()
            .WithColumn("display_name").AsString(127).NotNullable().WithDefaultValue("");
        Describe("tasks", "An AI task: a prompt run by an agent in a workspace.",
            ("workspace_id", "The workspace running the task; NULL until one exists."),
            ("template_parameters", "Parameter values the task's workspace is built with, as JSON."),
            ("deleted_at", "When the task was deleted; NULL while it exists."));
        Create.Index("tasks_organization_id_idx").OnTable("tasks").OnColumn("organization_id").Ascending();
        Create.Index("tasks_owner_id_idx").OnTable("tasks").OnColumn("owner_id").Ascending();
        CreateIndex("tasks_owner_id_name_unique_idx", "tasks",
            "(owner_id, lower(name))", unique: true, where: "deleted_at IS NULL");
        Create.Index("tasks_workspace_id_idx").OnTable("tasks").OnColumn("workspace_id").Ascending();

        Create.Table("task_snapshots")
            .WithColumn("task_id").AsGuid().NotNullable().PrimaryKey("task_snapshots_pkey")
                .ForeignKey("task_snapshots_task_id_fkey", "tasks", "id").OnDelete(Rule.Cascade)
            .WithColumn("log_snapshot").AsCustom("jsonb").NotNullable()
            .WithColumn("log_snapshot_created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now);
        Describe("task_snapshots", "The latest log output of a task, saved so it can be shown while its workspace is not running.",
            ("log_snapshot", "Log output as JSON."));

        Create.Table("task_workspace_apps")
            .WithColumn("task_id").AsGuid().NotNullable().PrimaryKey("task_workspace_apps_pkey")
                .ForeignKey("task_workspace_apps_task_id_fkey", "tasks", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_agent_id").AsGuid().Nullable()
                .ForeignKey("task_workspace_apps_workspace_agent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_app_id").AsGuid().Nullable()
                .ForeignKey("task_workspace_apps_workspace_app_id_fkey", "workspace_apps", "id").OnDelete(Rule.Cascade)
            .WithColumn("workspace_build_number").AsInt32().NotNullable().PrimaryKey("task_workspace_apps_pkey");
        Describe("task_workspace_apps", "The agent and app that run a task in one build of its workspace.",
            ("workspace_agent_id", "The agent running the task; NULL until known."),
            ("workspace_app_id", "The app the task runs in; NULL until known."));
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("task_workspace_apps");
        Delete.Table("task_snapshots");
        Delete.Table("tasks");
        DropType("task_status");
    }
}

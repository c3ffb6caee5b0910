using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Provisioner jobs, templates and their versions, workspaces, builds, resources and agents:
/// only the columns their constraints and a minimal row need.
/// </summary>
[Migration(2026_01_12_0002, "Create provisioning, templates and workspaces")]
public sealed class M2026_01_12_0002_CreateProvisioningAndWorkspaces : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("provisioner_job_type", "template_version_import", "workspace_build", "template_version_dry_run");
        CreateEnum("provisioner_type", "echo", "terraform");
        CreateEnum("provisioner_storage_method", "file");
        CreateEnum("workspace_transition", "start", "stop", "delete");
        CreateEnum("build_reason", "initiator", "autostart", "autostop", "dormancy", "failedstop", "autodelete",
            "dashboard", "cli", "ssh_connection", "vscode_connection", "jetbrains_connection",
            "task_auto_pause", "task_manual_pause", "task_resume");
        CreateEnum("workspace_agent_subsystem", "envbuilder", "envbox", "none", "exectrace");
        CreateEnum("workspace_agent_lifecycle_state", "created", "starting", "start_timeout", "start_error", "ready",
            "shutting_down", "shutdown_timeout", "shutdown_error", "off");

        Create.Table("provisioner_jobs")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("provisioner_jobs_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("provisioner_jobs_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("initiator_id").AsGuid().NotNullable()
            .WithColumn("provisioner").AsCustom("provisioner_type").NotNullable()
            .WithColumn("storage_method").AsCustom("provisioner_storage_method").NotNullable()
            .WithColumn("type").AsCustom("provisioner_job_type").NotNullable()
            .WithColumn("input").AsCustom("jsonb").NotNullable()
            .WithColumn("file_id").AsGuid().NotNullable()
            .WithColumn("logs_length").AsInt32().NotNullable().WithDefaultValue(0);
        AddCheck("provisioner_jobs", "max_provisioner_logs_length", "logs_length <= 1048576");

        Create.Table("templates")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("templates_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("templates_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("name").AsCustom("varchar(64)").NotNullable()
            .WithColumn("provisioner").AsCustom("provisioner_type").NotNullable()
            .WithColumn("active_version_id").AsGuid().NotNullable()
            .WithColumn("created_by").AsGuid().NotNullable();
        AddRestrictForeignKey("templates", "created_by", "users");

        Create.Table("template_versions")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("template_versions_pkey")
            .WithColumn("template_id").AsGuid().Nullable()
                .ForeignKey("template_versions_template_id_fkey", "templates", "id").OnDelete(Rule.Cascade)
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("template_versions_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("name").AsCustom("varchar(64)").NotNullable()
            .WithColumn("readme").AsCustom("varchar(1048576)").NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
            .WithColumn("created_by").AsGuid().NotNullable();
        AddRestrictForeignKey("template_versions", "created_by", "users");

        // No primary key: coderd identifies a parameter by (template_version_id, name).
        Create.Table("template_version_parameters")
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("template_version_parameters_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("description").AsString().NotNullable()
            .WithColumn("type").AsString().NotNullable()
            .WithColumn("mutable").AsBoolean().NotNullable()
            .WithColumn("default_value").AsString().NotNullable()
            .WithColumn("icon").AsString().NotNullable()
            .WithColumn("validation_regex").AsString().NotNullable()
            .WithColumn("validation_monotonic").AsString().NotNullable().WithDefaultValue("");
        AddCheck("template_version_parameters", "validation_monotonic_order", "validation_monotonic IN ('increasing', 'decreasing', '')");
        Create.UniqueConstraint("template_version_parameters_template_version_id_name_key")
            .OnTable("template_version_parameters").Columns("template_version_id", "name");

        Create.Table("workspaces")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspaces_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("owner_id").AsGuid().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
            .WithColumn("template_id").AsGuid().NotNullable()
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("name").AsCustom("varchar(64)").NotNullable()
            .WithColumn("group_acl").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("user_acl").AsCustom("jsonb").NotNullable().WithDefaultValue("{}");
        AddRestrictForeignKey("workspaces", "owner_id", "users");
        AddRestrictForeignKey("workspaces", "organization_id", "organizations");
        AddRestrictForeignKey("workspaces", "template_id", "templates");
        AddCheck("workspaces", "group_acl_is_object", "jsonb_typeof(group_acl) = 'object'");
        AddCheck("workspaces", "user_acl_is_object", "jsonb_typeof(user_acl) = 'object'");
        CreateIndex("workspaces_owner_id_lower_idx", "workspaces", "(owner_id, lower((name)::text))", unique: true, where: "deleted = false");

        Create.Table("workspace_builds")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_builds_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("workspace_id").AsGuid().NotNullable()
                .ForeignKey("workspace_builds_workspace_id_fkey", "workspaces", "id").OnDelete(Rule.Cascade)
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("workspace_builds_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("build_number").AsInt32().NotNullable()
            .WithColumn("transition").AsCustom("workspace_transition").NotNullable()
            .WithColumn("initiator_id").AsGuid().NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("workspace_builds_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("deadline").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("max_deadline").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("reason").AsCustom("build_reason").NotNullable().WithDefaultValue("initiator");
        // A zero max_deadline means "no maximum"; a zero deadline with a real maximum is rejected.
        AddCheck("workspace_builds", "workspace_builds_deadline_below_max_deadline",
            $"(deadline <> '{ZeroTime}'::timestamptz AND deadline <= max_deadline) OR max_deadline = '{ZeroTime}'::timestamptz");
        Create.UniqueConstraint("workspace_builds_job_id_key").OnTable("workspace_builds").Column("job_id");
        Create.UniqueConstraint("workspace_builds_workspace_id_build_number_key").OnTable("workspace_builds").Columns("workspace_id", "build_number");

        Create.Table("workspace_resources")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_resources_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("workspace_resources_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("transition").AsCustom("workspace_transition").NotNullable()
            .WithColumn("type").AsCustom("varchar(192)").NotNullable()
            .WithColumn("name").AsCustom("varchar(64)").NotNullable();

        Create.Table("workspace_agents")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_agents_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("name").AsCustom("varchar(64)").NotNullable()
            .WithColumn("resource_id").AsGuid().NotNullable()
                .ForeignKey("workspace_agents_resource_id_fkey", "workspace_resources", "id").OnDelete(Rule.Cascade)
            .WithColumn("auth_token").AsGuid().NotNullable()
            .WithColumn("architecture").AsCustom("varchar(64)").NotNullable()
            .WithColumn("operating_system").AsCustom("varchar(64)").NotNullable()
            .WithColumn("lifecycle_state").AsCustom("workspace_agent_lifecycle_state").NotNullable().WithDefaultValue("created")
            .WithColumn("logs_length").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("subsystems").AsCustom("workspace_agent_subsystem[]").Nullable().WithDefaultValue("{}")
            .WithColumn("parent_id").AsGuid().Nullable()
                .ForeignKey("workspace_agents_parent_id_fkey", "workspace_agents", "id").OnDelete(Rule.Cascade);
        AddCheck("workspace_agents", "max_logs_length", "logs_length <= 1048576");
        // NULL and '{}' pass: "none" = ANY of them is NULL or false.
        AddCheck("workspace_agents", "subsystems_not_none", "NOT ('none'::workspace_agent_subsystem = ANY (subsystems))");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("workspace_agents");
        Delete.Table("workspace_resources");
        Delete.Table("workspace_builds");
        Delete.Table("workspaces");
        Delete.Table("template_version_parameters");
        Delete.Table("template_versions");
        Delete.Table("templates");
        Delete.Table("provisioner_jobs");
        DropEnum("workspace_agent_lifecycle_state");
        DropEnum("workspace_agent_subsystem");
        DropEnum("build_reason");
        DropEnum("workspace_transition");
        DropEnum("provisioner_storage_method");
        DropEnum("provisioner_type");
        DropEnum("provisioner_job_type");
    }
}

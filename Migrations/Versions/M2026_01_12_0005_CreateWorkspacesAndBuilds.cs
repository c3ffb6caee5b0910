using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Workspaces and their builds, the parameters of each build, and the resources, resource metadata
/// and Terraform modules a build produced.
/// </summary>
[Migration(2026_01_12_0005, "Create workspaces, builds, resources and modules")]
internal sealed class M2026_01_12_0005_CreateWorkspacesAndBuilds : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("automatic_updates", "always", "never");
        CreateEnum("workspace_transition", "start", "stop", "delete");
        CreateEnum("build_reason",
            "initiator", "autostart", "autostop", "dormancy", "failedstop", "autodelete", "dashboard",
            "cli", "ssh_connection", "vscode_connection", "jetbrains_connection", "task_auto_pause", "task_manual_pause",
            "task_resume");

        Create.Table("workspaces")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspaces_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("owner_id").AsGuid().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
            .WithColumn("template_id").AsGuid().NotNullable()
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("autostart_schedule").AsString().Nullable()
            .WithColumn("ttl").AsInt64().Nullable()
            .WithColumn("last_used_at").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("dormant_at").AsDateTimeOffset().Nullable()
            .WithColumn("deleting_at").AsDateTimeOffset().Nullable()
            .WithColumn("automatic_updates").AsCustom("automatic_updates").NotNullable().WithDefaultValue("never")
            .WithColumn("favorite").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("next_start_at").AsDateTimeOffset().Nullable()
            .WithColumn("group_acl").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("user_acl").AsCustom("jsonb").NotNullable().WithDefaultValue("{}");
        Describe("workspaces", "A user's workspace, built from a template.",
            ("deleted", "Soft delete: a deleted workspace keeps its row and frees its name."),
            ("autostart_schedule", "Cron expression for automatic starts; NULL for none."),
            ("ttl", "Nanoseconds a started workspace runs before it stops; NULL for no automatic stop."),
            ("last_used_at", "Last activity; the zero time if never used."),
            ("dormant_at", "When the workspace became dormant; NULL when it is not."),
            ("deleting_at", "When a dormant workspace will be deleted; NULL when none is planned."),
            ("automatic_updates", "Whether starts update to the template's active version."),
            ("favorite", "True if the owner pinned the workspace."),
            ("next_start_at", "Next automatic start computed from autostart_schedule; NULL for none."),
            ("group_acl", "JSON object from group id to the roles granted on the workspace."),
            ("user_acl", "JSON object from user id to the roles granted on the workspace."));
        // RESTRICT: an organization, owner or template cannot be deleted while a workspace still uses it.
        AddRestrictForeignKey("workspaces_organization_id_fkey", "workspaces", "organization_id", "organizations");
        AddRestrictForeignKey("workspaces_owner_id_fkey", "workspaces", "owner_id", "users");
        AddRestrictForeignKey("workspaces_template_id_fkey", "workspaces", "template_id", "templates");
        AddCheck("workspaces", "group_acl_is_object", "jsonb_typeof(group_acl) = 'object'");
        AddCheck("workspaces", "user_acl_is_object", "jsonb_typeof(user_acl) = 'object'");
        CreateIndex("workspace_next_start_at_idx", "workspaces", "(next_start_at)", where: "deleted = false");
        CreateIndex("workspace_template_id_idx", "workspaces", "(template_id)", where: "deleted = false");
        CreateIndex("workspaces_owner_id_lower_idx", "workspaces",
            "(owner_id, lower(name))", unique: true, where: "deleted = false");

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
            .WithColumn("provisioner_state").AsBinary().Nullable()
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("workspace_builds_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("deadline").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("reason").AsCustom("build_reason").NotNullable().WithDefaultValue("initiator")
            .WithColumn("daily_cost").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("max_deadline").AsDateTimeOffset().NotNullable().WithDefaultValue(ZeroTime)
            .WithColumn("template_version_preset_id").AsGuid().Nullable()
                .ForeignKey("workspace_builds_template_version_preset_id_fkey", "template_version_presets", "id").OnDelete(Rule.SetNull)
            .WithColumn("has_ai_task").AsBoolean().Nullable()
            .WithColumn("has_external_agent").AsBoolean().Nullable();
        Describe("workspace_builds", "One build of a workspace: a start, stop or delete run by a provisioner job.",
            ("build_number", "Position of the build among the workspace's builds, from 1."),
            ("provisioner_state", "Terraform state after the build; NULL when none was produced."),
            ("deadline", "When the workspace stops automatically; the zero time for never."),
            ("daily_cost", "Cost of the build's resources per day, counted against group quotas."),
            ("max_deadline", "Latest deadline that activity may extend to; the zero time for no limit."),
            ("template_version_preset_id", "The preset the build used; NULL for none."),
            ("has_ai_task", "Whether the build runs an AI task; NULL until known."),
            ("has_external_agent", "Whether the build has an external agent; NULL until known."));
        Create.UniqueConstraint("workspace_builds_job_id_key").OnTable("workspace_builds").Column("job_id");
        Create.UniqueConstraint("workspace_builds_workspace_id_build_number_key")
            .OnTable("workspace_builds").Columns("workspace_id", "build_number");
        // A zero max_deadline means "no maximum"; a zero deadline with a real maximum is rejected.
        AddCheck("workspace_builds", "workspace_builds_deadline_below_max_deadline",
            $"(deadline <> '{ZeroTime}'::timestamptz AND deadline <= max_deadline) OR max_deadline = '{ZeroTime}'::timestamptz");
        Create.Index("idx_workspace_builds_initiator_id").OnTable("workspace_builds")
            .OnColumn("initiator_id").Ascending();

        // No primary key: coderd addresses a value by (workspace_build_id, name).
        Create.Table("workspace_build_parameters")
            .WithColumn("workspace_build_id").AsGuid().NotNullable()
                .ForeignKey("workspace_build_parameters_workspace_build_id_fkey", "workspace_builds", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("value").AsString().NotNullable();
        Describe("workspace_build_parameters", "A parameter value a workspace build used.");
        Create.UniqueConstraint("workspace_build_parameters_workspace_build_id_name_key")
            .OnTable("workspace_build_parameters").Columns("workspace_build_id", "name");

        Create.Table("workspace_resources")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("workspace_resources_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("workspace_resources_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("transition").AsCustom("workspace_transition").NotNullable()
            .WithColumn("type").AsString(192).NotNullable()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("hide").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("icon").AsString(256).NotNullable().WithDefaultValue("")
            .WithColumn("instance_type").AsString(256).Nullable()
            .WithColumn("daily_cost").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("module_path").AsString().Nullable();
        Describe("workspace_resources", "A Terraform resource a provisioner job produced.",
            ("type", "Terraform resource type."),
            ("hide", "True to hide the resource in the UI."),
            ("instance_type", "Machine size reported by the provider; NULL if unknown."),
            ("daily_cost", "Cost of the resource per day, counted against group quotas."),
            ("module_path", "Terraform module address of the resource; NULL for the root module."));
        Create.Index("workspace_resources_job_id_idx").OnTable("workspace_resources").OnColumn("job_id").Ascending();

        CreateSequence("workspace_resource_metadata_id_seq", "bigint");
        Create.Table("workspace_resource_metadata")
            .WithColumn("workspace_resource_id").AsGuid().NotNullable()
                .ForeignKey("workspace_resource_metadata_workspace_resource_id_fkey", "workspace_resources", "id").OnDelete(Rule.Cascade)
            .WithColumn("key").AsString(1024).NotNullable()
            .WithColumn("value").AsString(65536).Nullable()
            .WithColumn("sensitive").AsBoolean().NotNullable()
            .WithColumn("id").AsInt64().NotNullable().WithDefaultValue(NextValue("workspace_resource_metadata_id_seq")).PrimaryKey("workspace_resource_metadata_pkey");
        Describe("workspace_resource_metadata", "A key/value shown for a workspace resource.",
            ("value", "The value; NULL if unset."),
            ("sensitive", "True if the value must be masked."));
        OwnSequence("workspace_resource_metadata_id_seq", "workspace_resource_metadata", "id");
        Create.UniqueConstraint("workspace_resource_metadata_name")
            .OnTable("workspace_resource_metadata").Columns("workspace_resource_id", "key");

        // No primary key and no unique key, as in coderd's schema: rows are read per job.
        Create.Table("workspace_modules")
            .WithColumn("id").AsGuid().NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("workspace_modules_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("transition").AsCustom("workspace_transition").NotNullable()
            .WithColumn("source").AsString().NotNullable()
            .WithColumn("version").AsString().NotNullable()
            .WithColumn("key").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable();
        Describe("workspace_modules", "A Terraform module a provisioner job used.",
            ("source", "Where the module came from."),
            ("key", "Module key within the configuration."));
        Create.Index("workspace_modules_created_at_idx").OnTable("workspace_modules")
            .OnColumn("created_at").Ascending();
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("workspace_modules");
        Delete.Table("workspace_resource_metadata");
        Delete.Table("workspace_resources");
        Delete.Table("workspace_build_parameters");
        Delete.Table("workspace_builds");
        Delete.Table("workspaces");
        DropType("build_reason");
        DropType("workspace_transition");
        DropType("automatic_updates");
    }
}

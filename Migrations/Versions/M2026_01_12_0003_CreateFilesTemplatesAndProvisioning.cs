using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Uploaded files, provisioner keys, daemons and jobs with their logs and timings, templates and
/// their versions with parameters, variables, workspace tags and cached Terraform plans, and the
/// legacy parameter schemas and values.
/// </summary>
[Migration(2026_01_12_0003, "Create files, provisioner daemons and jobs, templates and template versions")]
internal sealed class M2026_01_12_0003_CreateFilesTemplatesAndProvisioning : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("provisioner_type", "echo", "terraform");
        CreateEnum("provisioner_storage_method", "file");
        CreateEnum("provisioner_job_type", "template_version_import", "workspace_build", "template_version_dry_run");
        CreateEnum("provisioner_job_status", "pending", "running", "succeeded", "canceling", "canceled", "failed", "unknown");
        CreateEnum("provisioner_job_timing_stage", "init", "plan", "graph", "apply");
        CreateEnum("provisioner_daemon_status", "offline", "idle", "busy");
        CreateEnum("log_level", "trace", "debug", "info", "warn", "error");
        CreateEnum("log_source", "provisioner_daemon", "provisioner");
        CreateEnum("parameter_scope", "template", "import_job", "workspace");
        CreateEnum("parameter_source_scheme", "none", "data");
        CreateEnum("parameter_destination_scheme", "none", "environment_variable", "provisioner_variable");
        CreateEnum("parameter_type_system", "none", "hcl");
        CreateEnum("parameter_form_type", "", "error", "radio", "dropdown", "input", "textarea", "slider", "checkbox", "switch", "tag-select", "multi-select");
        CreateEnum("app_sharing_level", "owner", "authenticated", "organization", "public");
        CreateEnum("cors_behavior", "simple", "passthru");
        CreateDomain("tagset", "jsonb");

        Create.Table("files")
            .WithColumn("hash").AsString(64).NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("created_by").AsGuid().NotNullable()
            .WithColumn("mimetype").AsString(64).NotNullable()
            .WithColumn("data").AsBinary().NotNullable()
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("files_pkey");
        Describe("files", "An uploaded file, such as a template's source archive.",
            ("hash", "Hex SHA-256 of data."),
            ("created_by", "User who uploaded the file."));
        Create.UniqueConstraint("files_hash_created_by_key").OnTable("files").Columns("hash", "created_by");

        Create.Table("provisioner_keys")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("provisioner_keys_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("provisioner_keys_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("hashed_secret").AsBinary().NotNullable()
            .WithColumn("tags").AsCustom("jsonb").NotNullable();
        Describe("provisioner_keys", "A key that authenticates external provisioner daemons of an organization.",
            ("hashed_secret", "Hash of the key's secret; the secret itself is never stored."),
            ("tags", "Tags (JSON object) that daemons using this key advertise."));
        CreateIndex("provisioner_keys_organization_id_name_idx", "provisioner_keys",
            "(organization_id, lower(name))", unique: true);

        Create.Table("provisioner_daemons")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("provisioner_daemons_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("provisioners").AsCustom("provisioner_type[]").NotNullable()
            .WithColumn("replica_id").AsGuid().Nullable()
            .WithColumn("tags").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("last_seen_at").AsDateTimeOffset().Nullable()
            .WithColumn("version").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("api_version").AsString().NotNullable().WithDefaultValue("1.0")
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("provisioner_daemons_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("key_id").AsGuid().NotNullable()
                .ForeignKey("provisioner_daemons_key_id_fkey", "provisioner_keys", "id").OnDelete(Rule.Cascade);
        Describe("provisioner_daemons", "A provisioner daemon that has connected to coderd.",
            ("provisioners", "Provisioner types the daemon can run."),
            ("replica_id", "The coderd replica the daemon is connected to; NULL for none."),
            ("tags", "Tags (JSON object) jobs are matched against."),
            ("last_seen_at", "When the daemon last reported in; NULL if never."),
            ("api_version", "Version of the provisioner API the daemon speaks."),
            ("key_id", "The provisioner key the daemon authenticated with."));
        CreateIndex("idx_provisioner_daemons_org_name_owner_key", "provisioner_daemons",
            "(organization_id, name, lower(COALESCE(tags ->> 'owner', '')))", unique: true);

        // SQL, not the fluent API: FluentMigrator cannot declare the generated job_status, and
        // adding it afterwards would put it after the columns that follow it in coderd's table.
        Execute.Sql("""
            CREATE TABLE public.provisioner_jobs (
                id uuid NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                started_at timestamptz,
                canceled_at timestamptz,
                completed_at timestamptz,
                error text,
                organization_id uuid NOT NULL,
                initiator_id uuid NOT NULL,
                provisioner provisioner_type NOT NULL,
                storage_method provisioner_storage_method NOT NULL,
                type provisioner_job_type NOT NULL,
                input jsonb NOT NULL,
                worker_id uuid,
                file_id uuid NOT NULL,
                tags jsonb NOT NULL DEFAULT '{"scope": "organization"}',
                error_code text,
                trace_metadata jsonb,
                job_status provisioner_job_status NOT NULL GENERATED ALWAYS AS (
                    CASE
                        WHEN completed_at IS NOT NULL THEN
                            CASE
                                WHEN error <> '' THEN 'failed'::provisioner_job_status
                                WHEN canceled_at IS NOT NULL THEN 'canceled'::provisioner_job_status
                                ELSE 'succeeded'::provisioner_job_status
                            END
                        ELSE
                            CASE
                                WHEN error <> '' THEN 'failed'::provisioner_job_status
                                WHEN canceled_at IS NOT NULL THEN 'canceling'::provisioner_job_status
                                WHEN started_at IS NULL THEN 'pending'::provisioner_job_status
                                ELSE 'running'::provisioner_job_status
                            END
                    END
                ) STORED,
                logs_length integer NOT NULL DEFAULT 0,
                logs_overflowed boolean NOT NULL DEFAULT false,
                CONSTRAINT provisioner_jobs_pkey PRIMARY KEY (id)
            )
            """);
        Describe("provisioner_jobs", "A unit of work for a provisioner: importing a template version, a dry run, or a workspace build.",
            ("started_at", "When a daemon acquired the job; NULL while pending."),
            ("canceled_at", "When cancellation was requested; NULL if never."),
            ("completed_at", "When the job finished, whatever the outcome; NULL while running."),
            ("error", "Why the job failed; NULL or empty when it did not."),
            ("input", "Job parameters as JSON; their shape depends on type."),
            ("worker_id", "The daemon that acquired the job; NULL while pending."),
            ("file_id", "The source archive the job provisions from."),
            ("tags", "Tags (JSON object) a daemon must have to run the job."),
            ("error_code", "Machine-readable code for some failures; NULL otherwise."),
            ("trace_metadata", "Tracing context to continue the trace in the daemon."),
            ("job_status", "Derived from the timestamps and error; never written."),
            ("logs_length", "Total bytes of log output stored for the job, at most 1 MiB."),
            ("logs_overflowed", "True once logs were cut at the size limit."));
        Create.ForeignKey("provisioner_jobs_organization_id_fkey")
            .FromTable("provisioner_jobs").ForeignColumn("organization_id")
            .ToTable("organizations").PrimaryColumn("id").OnDelete(Rule.Cascade);
        AddCheck("provisioner_jobs", "max_provisioner_logs_length", "logs_length <= 1048576");
        Create.Index("idx_provisioner_jobs_status").OnTable("provisioner_jobs").OnColumn("job_status").Ascending();
        CreateIndex("provisioner_jobs_started_at_idx", "provisioner_jobs", "(started_at)", where: "started_at IS NULL");
        Create.Index("provisioner_jobs_worker_id_organization_id_completed_at_idx").OnTable("provisioner_jobs")
            .OnColumn("worker_id").Ascending().OnColumn("organization_id").Ascending().OnColumn("completed_at").Descending();

        CreateSequence("provisioner_job_logs_id_seq", "bigint");
        Create.Table("provisioner_job_logs")
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("provisioner_job_logs_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("source").AsCustom("log_source").NotNullable()
            .WithColumn("level").AsCustom("log_level").NotNullable()
            .WithColumn("stage").AsString(128).NotNullable()
            .WithColumn("output").AsString(1024).NotNullable()
            .WithColumn("id").AsInt64().NotNullable().WithDefaultValue(NextValue("provisioner_job_logs_id_seq")).PrimaryKey("provisioner_job_logs_pkey");
        Describe("provisioner_job_logs", "A line of log output of a provisioner job.",
            ("stage", "Phase of the job the line belongs to."));
        OwnSequence("provisioner_job_logs_id_seq", "provisioner_job_logs", "id");
        Create.Index("provisioner_job_logs_id_job_id_idx").OnTable("provisioner_job_logs")
            .OnColumn("job_id").Ascending().OnColumn("id").Ascending();

        // No primary key and no unique key, as in coderd's schema: rows are read per job.
        Create.Table("provisioner_job_timings")
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("provisioner_job_timings_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("started_at").AsDateTimeOffset().NotNullable()
            .WithColumn("ended_at").AsDateTimeOffset().NotNullable()
            .WithColumn("stage").AsCustom("provisioner_job_timing_stage").NotNullable()
            .WithColumn("source").AsString().NotNullable()
            .WithColumn("action").AsString().NotNullable()
            .WithColumn("resource").AsString().NotNullable();
        Describe("provisioner_job_timings", "How long one step of a provisioner job took, for the build timeline.",
            ("source", "Provisioner that reported the step."),
            ("action", "What was done, for example create or read."),
            ("resource", "Address of the resource the step acted on."));

        Create.Table("templates")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("templates_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("templates_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("deleted").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("provisioner").AsCustom("provisioner_type").NotNullable()
            .WithColumn("active_version_id").AsGuid().NotNullable()
            .WithColumn("description").AsString(128).NotNullable().WithDefaultValue("")
            .WithColumn("default_ttl").AsInt64().NotNullable().WithDefaultValue(604800000000000L)
            .WithColumn("created_by").AsGuid().NotNullable()
            .WithColumn("icon").AsString(256).NotNullable().WithDefaultValue("")
            .WithColumn("user_acl").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("group_acl").AsCustom("jsonb").NotNullable().WithDefaultValue("{}")
            .WithColumn("display_name").AsString(64).NotNullable().WithDefaultValue("")
            .WithColumn("allow_user_cancel_workspace_jobs").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("allow_user_autostart").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("allow_user_autostop").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("failure_ttl").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("time_til_dormant").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("time_til_dormant_autodelete").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("autostop_requirement_days_of_week").AsInt16().NotNullable().WithDefaultValue(0)
            .WithColumn("autostop_requirement_weeks").AsInt64().NotNullable().WithDefaultValue(0)
            .WithColumn("autostart_block_days_of_week").AsInt16().NotNullable().WithDefaultValue(0)
            .WithColumn("require_active_version").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("deprecated").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("activity_bump").AsInt64().NotNullable().WithDefaultValue(3600000000000L)
            .WithColumn("max_port_sharing_level").AsCustom("app_sharing_level").NotNullable().WithDefaultValue("owner")
            .WithColumn("use_classic_parameter_flow").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("cors_behavior").AsCustom("cors_behavior").NotNullable().WithDefaultValue("simple")
            .WithColumn("disable_module_cache").AsBoolean().NotNullable().WithDefaultValue(false);
        Describe("templates", "A template from which workspaces are built.",
            ("deleted", "Soft delete: a deleted template keeps its row and frees its name."),
            ("active_version_id", "The template version new workspaces use."),
            ("default_ttl", "Nanoseconds before a started workspace stops by default."),
            ("user_acl", "JSON object from user id to the roles granted on the template."),
            ("group_acl", "JSON object from group id to the roles granted on the template."),
            ("failure_ttl", "Nanoseconds after which a failed workspace is stopped; 0 disables."),
            ("time_til_dormant", "Nanoseconds of inactivity before a workspace becomes dormant; 0 disables."),
            ("time_til_dormant_autodelete", "Nanoseconds a workspace stays dormant before it is deleted; 0 disables."),
            ("autostop_requirement_days_of_week", "Bitmap of the days of the week on which workspaces must stop."),
            ("autostop_requirement_weeks", "Every how many weeks the autostop requirement applies."),
            ("autostart_block_days_of_week", "Bitmap of the days of the week on which workspaces may not autostart."),
            ("require_active_version", "True if workspaces must be updated to the active version to start."),
            ("deprecated", "Deprecation message shown to users; empty when the template is not deprecated."),
            ("activity_bump", "Nanoseconds by which activity extends a workspace's deadline."),
            ("max_port_sharing_level", "Widest level at which workspace ports may be shared."),
            ("use_classic_parameter_flow", "True to use the older parameter form instead of dynamic parameters."),
            ("cors_behavior", "How CORS requests to workspace apps are handled."),
            ("disable_module_cache", "True to download Terraform modules on every build."));
        // RESTRICT: a user who created templates or template versions cannot be deleted while they exist.
        AddRestrictForeignKey("templates_created_by_fkey", "templates", "created_by", "users");
        CreateIndex("templates_organization_id_name_idx", "templates",
            "(organization_id, lower(name))", unique: true, where: "deleted = false");

        Create.Table("template_versions")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("template_versions_pkey")
            .WithColumn("template_id").AsGuid().Nullable()
                .ForeignKey("template_versions_template_id_fkey", "templates", "id").OnDelete(Rule.Cascade)
            .WithColumn("organization_id").AsGuid().NotNullable()
                .ForeignKey("template_versions_organization_id_fkey", "organizations", "id").OnDelete(Rule.Cascade)
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("readme").AsString(1048576).NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
            .WithColumn("created_by").AsGuid().NotNullable()
            .WithColumn("external_auth_providers").AsCustom("jsonb").NotNullable().WithDefaultValue("[]")
            .WithColumn("message").AsString(1048576).NotNullable().WithDefaultValue("")
            .WithColumn("archived").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("source_example_id").AsString().Nullable()
            .WithColumn("has_ai_task").AsBoolean().Nullable()
            .WithColumn("has_external_agent").AsBoolean().Nullable();
        Describe("template_versions", "A version of a template: its source, readme and the import job that parsed it.",
            ("template_id", "The template this version belongs to; NULL until it is attached to one."),
            ("job_id", "The provisioner job that imported this version."),
            ("external_auth_providers", "JSON array of external auth providers a workspace of this version needs."),
            ("message", "Message the author gave the version, like a commit message."),
            ("archived", "True once the version is hidden from use."),
            ("source_example_id", "Id of the starter example the version came from; NULL if none."),
            ("has_ai_task", "Whether the version defines an AI task; NULL until the import job has told."),
            ("has_external_agent", "Whether the version defines an external agent; NULL until the import job has told."));
        AddRestrictForeignKey("template_versions_created_by_fkey", "template_versions", "created_by", "users");
        Create.UniqueConstraint("template_versions_template_id_name_key")
            .OnTable("template_versions").Columns("template_id", "name");
        Create.Index("idx_template_versions_has_ai_task").OnTable("template_versions")
            .OnColumn("has_ai_task").Ascending();

        // No primary key: coderd addresses a parameter by (template_version_id, name).
        Create.Table("template_version_parameters")
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("template_version_parameters_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("description").AsString().NotNullable()
            .WithColumn("type").AsString().NotNullable()
            .WithColumn("mutable").AsBoolean().NotNullable()
            .WithColumn("default_value").AsString().NotNullable()
            .WithColumn("icon").AsString().NotNullable()
            .WithColumn("options").AsCustom("jsonb").NotNullable().WithDefaultValue("[]")
            .WithColumn("validation_regex").AsString().NotNullable()
            .WithColumn("validation_min").AsInt32().Nullable()
            .WithColumn("validation_max").AsInt32().Nullable()
            .WithColumn("validation_error").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("validation_monotonic").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("required").AsBoolean().NotNullable().WithDefaultValue(true)
            .WithColumn("display_name").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("display_order").AsInt32().NotNullable().WithDefaultValue(0)
            .WithColumn("ephemeral").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("form_type").AsCustom("parameter_form_type").NotNullable().WithDefaultValue("");
        Describe("template_version_parameters", "A parameter a template version asks for when a workspace is built.",
            ("type", "Value type: string, number, bool or list(string)."),
            ("mutable", "True if the value may change after the workspace is created."),
            ("options", "JSON array of the choices offered, if any."),
            ("validation_min", "Lowest allowed number; NULL for none."),
            ("validation_max", "Highest allowed number; NULL for none."),
            ("validation_monotonic", "increasing or decreasing if a number may only move one way; empty if free."),
            ("ephemeral", "True if the value applies to one build only."),
            ("form_type", "Which input control the form shows; empty for the default."));
        Create.UniqueConstraint("template_version_parameters_template_version_id_name_key")
            .OnTable("template_version_parameters").Columns("template_version_id", "name");
        AddCheck("template_version_parameters", "validation_monotonic_order",
            "validation_monotonic IN ('increasing', 'decreasing', '')");

        // No primary key: coderd addresses a variable by (template_version_id, name).
        Create.Table("template_version_variables")
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("template_version_variables_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("description").AsString().NotNullable()
            .WithColumn("type").AsString().NotNullable()
            .WithColumn("value").AsString().NotNullable()
            .WithColumn("default_value").AsString().NotNullable()
            .WithColumn("required").AsBoolean().NotNullable()
            .WithColumn("sensitive").AsBoolean().NotNullable();
        Describe("template_version_variables", "A Terraform variable of a template version, with the value set by the template admin.",
            ("sensitive", "True if the value must not be shown."));
        Create.UniqueConstraint("template_version_variables_template_version_id_name_key")
            .OnTable("template_version_variables").Columns("template_version_id", "name");

        // No primary key: coderd addresses a tag by (template_version_id, key).
        Create.Table("template_version_workspace_tags")
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("template_version_workspace_tags_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("key").AsString().NotNullable()
            .WithColumn("value").AsString().NotNullable();
        Describe("template_version_workspace_tags", "A provisioner tag a template version's workspace builds are tagged with.",
            ("value", "Tag value, or an expression computed from parameters at build time."));
        Create.UniqueConstraint("template_version_workspace_tags_template_version_id_key_key")
            .OnTable("template_version_workspace_tags").Columns("template_version_id", "key");

        // No primary key: one row per template version, by its unique constraint.
        Create.Table("template_version_terraform_values")
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("template_version_terraform_values_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable().WithDefaultValue(Now)
            .WithColumn("cached_plan").AsCustom("jsonb").NotNullable()
            .WithColumn("cached_module_files").AsGuid().Nullable()
                .ForeignKey("template_version_terraform_values_cached_module_files_fkey", "files", "id")
            .WithColumn("provisionerd_version").AsString().NotNullable().WithDefaultValue("");
        Describe("template_version_terraform_values", "Terraform output cached for a template version.",
            ("cached_plan", "The import job's Terraform plan, as JSON."),
            ("cached_module_files", "Archive of the Terraform modules the version uses; NULL if not cached."),
            ("provisionerd_version", "Version of the provisioner daemon that produced the values."));
        Create.UniqueConstraint("template_version_terraform_values_template_version_id_key")
            .OnTable("template_version_terraform_values").Column("template_version_id");

        Create.Table("parameter_schemas")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("parameter_schemas_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("job_id").AsGuid().NotNullable()
                .ForeignKey("parameter_schemas_job_id_fkey", "provisioner_jobs", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("description").AsString(8192).NotNullable().WithDefaultValue("")
            .WithColumn("default_source_scheme").AsCustom("parameter_source_scheme").NotNullable()
            .WithColumn("default_source_value").AsString().NotNullable()
            .WithColumn("allow_override_source").AsBoolean().NotNullable()
            .WithColumn("default_destination_scheme").AsCustom("parameter_destination_scheme").NotNullable()
            .WithColumn("allow_override_destination").AsBoolean().NotNullable()
            .WithColumn("default_refresh").AsString().NotNullable()
            .WithColumn("redisplay_value").AsBoolean().NotNullable()
            .WithColumn("validation_error").AsString(256).NotNullable()
            .WithColumn("validation_condition").AsString(512).NotNullable()
            .WithColumn("validation_type_system").AsCustom("parameter_type_system").NotNullable()
            .WithColumn("validation_value_type").AsString(64).NotNullable()
            .WithColumn("index").AsInt32().NotNullable();
        Describe("parameter_schemas", "A parameter of the legacy parameter system, as an import job found it.");
        Create.UniqueConstraint("parameter_schemas_job_id_name_key")
            .OnTable("parameter_schemas").Columns("job_id", "name");

        Create.Table("parameter_values")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("parameter_values_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("scope").AsCustom("parameter_scope").NotNullable()
            .WithColumn("scope_id").AsGuid().NotNullable()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("source_scheme").AsCustom("parameter_source_scheme").NotNullable()
            .WithColumn("source_value").AsString().NotNullable()
            .WithColumn("destination_scheme").AsCustom("parameter_destination_scheme").NotNullable();
        Describe("parameter_values", "A value of the legacy parameter system, set at some scope.",
            ("scope_id", "Id of the template, import job or workspace the value belongs to, per scope."));
        Create.UniqueConstraint("parameter_values_scope_id_name_key")
            .OnTable("parameter_values").Columns("scope_id", "name");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("parameter_values");
        Delete.Table("parameter_schemas");
        Delete.Table("template_version_terraform_values");
        Delete.Table("template_version_workspace_tags");
        Delete.Table("template_version_variables");
        Delete.Table("template_version_parameters");
        Delete.Table("template_versions");
        Delete.Table("templates");
        Delete.Table("provisioner_job_timings");
        Delete.Table("provisioner_job_logs");
        Delete.Table("provisioner_jobs");
        Delete.Table("provisioner_daemons");
        Delete.Table("provisioner_keys");
        Delete.Table("files");
        DropDomain("tagset");
        DropType("cors_behavior");
        DropType("app_sharing_level");
        DropType("parameter_form_type");
        DropType("parameter_type_system");
        DropType("parameter_destination_scheme");
        DropType("parameter_source_scheme");
        DropType("parameter_scope");
        DropType("log_source");
        DropType("log_level");
        DropType("provisioner_daemon_status");
        DropType("provisioner_job_timing_stage");
        DropType("provisioner_job_status");
        DropType("provisioner_job_type");
        DropType("provisioner_storage_method");
        DropType("provisioner_type");
    }
}

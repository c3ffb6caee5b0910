using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Template version presets (named parameter sets), their parameter values and the schedules that
/// size their prebuilt workspace pools. Before workspaces: a build records the preset it used.
/// </summary>
[Migration(2026_01_12_0004, "Create template version presets, their parameters and prebuild schedules")]
internal sealed class M2026_01_12_0004_CreatePresetsAndPrebuilds : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("prebuild_status", "healthy", "hard_limited", "validation_failed");

        Create.Table("template_version_presets")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("template_version_presets_pkey")
            .WithColumn("template_version_id").AsGuid().NotNullable()
                .ForeignKey("template_version_presets_template_version_id_fkey", "template_versions", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable().WithDefaultValue(CurrentTimestamp)
            .WithColumn("desired_instances").AsInt32().Nullable()
            .WithColumn("invalidate_after_secs").AsInt32().Nullable().WithDefaultValue(0)
            .WithColumn("prebuild_status").AsCustom("prebuild_status").NotNullable().WithDefaultValue("healthy")
            .WithColumn("scheduling_timezone").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("is_default").AsBoolean().NotNullable().WithDefaultValue(false)
            .WithColumn("description").AsString(128).NotNullable().WithDefaultValue("")
            .WithColumn("icon").AsString(256).NotNullable().WithDefaultValue("")
            .WithColumn("last_invalidated_at").AsDateTimeOffset().Nullable();
        Describe("template_version_presets", "A named set of parameter values offered for a template version.",
            ("desired_instances", "How many prebuilt workspaces to keep ready; NULL for none."),
            ("invalidate_after_secs", "Age in seconds at which a prebuilt workspace is invalidated; NULL for no limit."),
            ("prebuild_status", "Health of the preset's prebuild reconciliation."),
            ("scheduling_timezone", "Time zone the cron expressions of the prebuild schedules are read in."),
            ("is_default", "True for the preset selected by default."),
            ("last_invalidated_at", "When the preset's prebuilt workspaces were last invalidated; NULL if never."));
        CreateIndex("idx_template_version_presets_default", "template_version_presets",
            "(template_version_id)", unique: true, where: "is_default = true");
        Create.Index("idx_unique_preset_name").OnTable("template_version_presets")
            .OnColumn("name").Ascending().OnColumn("template_version_id").Ascending().WithOptions().Unique();

        Create.Table("template_version_preset_parameters")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("template_version_preset_parameters_pkey")
            .WithColumn("template_version_preset_id").AsGuid().NotNullable()
                .ForeignKey("template_version_preset_paramet_template_version_preset_id_fkey", "template_version_presets", "id").OnDelete(Rule.Cascade)
            .WithColumn("name").AsString().NotNullable()
            .WithColumn("value").AsString().NotNullable();
        Describe("template_version_preset_parameters", "A parameter value of a preset.");

        Create.Table("template_version_preset_prebuild_schedules")
            .WithColumn("id").AsGuid().NotNullable().WithDefaultValue(RandomUuid).PrimaryKey("template_version_preset_prebuild_schedules_pkey")
            .WithColumn("preset_id").AsGuid().NotNullable()
                .ForeignKey("template_version_preset_prebuild_schedules_preset_id_fkey", "template_version_presets", "id").OnDelete(Rule.Cascade)
            .WithColumn("cron_expression").AsString().NotNullable()
            .WithColumn("desired_instances").AsInt32().NotNullable();
        Describe("template_version_preset_prebuild_schedules", "A schedule that changes how many prebuilt workspaces a preset keeps.",
            ("cron_expression", "When the schedule applies, as a cron expression."),
            ("desired_instances", "Prebuilt workspaces to keep while the schedule applies."));
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("template_version_preset_prebuild_schedules");
        Delete.Table("template_version_preset_parameters");
        Delete.Table("template_version_presets");
        DropType("prebuild_status");
    }
}

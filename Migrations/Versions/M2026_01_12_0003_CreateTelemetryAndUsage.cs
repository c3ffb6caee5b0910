using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>Telemetry locks and usage events.</summary>
[Migration(2026_01_12_0003, "Create telemetry locks and usage events")]
public sealed class M2026_01_12_0003_CreateTelemetryAndUsage : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        // Both columns name the same key: one composite primary key, created with the table.
        Create.Table("telemetry_locks")
            .WithColumn("event_type").AsString().NotNullable().PrimaryKey("telemetry_locks_pkey")
            .WithColumn("period_ending_at").AsDateTimeOffset().NotNullable().PrimaryKey("telemetry_locks_pkey");
        AddCheck("telemetry_locks", "telemetry_lock_event_type_constraint",
            "event_type IN ('aibridge_interceptions_summary', 'boundary_usage_summary')");
        Create.Index("idx_telemetry_locks_period_ending_at").OnTable("telemetry_locks").OnColumn("period_ending_at");

        Create.Table("usage_events")
            .WithColumn("id").AsString().NotNullable().PrimaryKey("usage_events_pkey")
            .WithColumn("event_type").AsString().NotNullable()
            .WithColumn("event_data").AsCustom("jsonb").NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("publish_started_at").AsDateTimeOffset().Nullable()
            .WithColumn("published_at").AsDateTimeOffset().Nullable()
            .WithColumn("failure_message").AsString().Nullable();
        AddCheck("usage_events", "usage_event_type_check", "event_type IN ('dc_managed_agents_v1', 'hb_ai_seats_v1')");
        Create.Index("idx_usage_events_select_for_publishing").OnTable("usage_events")
            .OnColumn("published_at").Ascending()
            .OnColumn("publish_started_at").Ascending()
            .OnColumn("created_at").Ascending();
        CreateIndex("idx_usage_events_ai_seats", "usage_events", "(event_type, created_at)", where: "event_type = 'hb_ai_seats_v1'");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("usage_events");
        Delete.Table("telemetry_locks");
    }
}

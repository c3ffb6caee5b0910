using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Rolls every usage event into <c>usage_events_daily</c>, one row per UTC day and event type:
/// managed agents are summed, AI seats keep the day's highest count.
/// </summary>
/// <remarks>Every object the function names is schema-qualified; see <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>.</remarks>
[Migration(2026_02_16_0004, "Add the daily usage event aggregation trigger")]
internal sealed class M2026_02_16_0004_AddUsageEventAggregation : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE FUNCTION public.aggregate_usage_event() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- usage_event_type_check rejects other types first; this is the second line.
                IF NEW.event_type NOT IN ('dc_managed_agents_v1', 'hb_ai_seats_v1') THEN
                    RAISE EXCEPTION 'Unhandled usage event type in aggregate_usage_event: %', NEW.event_type;
                END IF;

                -- The first event of a day is stored as it came; later ones merge into {"count": N},
                -- where a missing or null count is 0 and anything but an integer fails the insert.
                INSERT INTO public.usage_events_daily AS daily (day, event_type, usage_data)
                    VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.event_type, NEW.event_data)
                ON CONFLICT (day, event_type) DO UPDATE SET usage_data = jsonb_build_object('count',
                    CASE daily.event_type
                        WHEN 'dc_managed_agents_v1' THEN
                            COALESCE((daily.usage_data ->> 'count')::bigint, 0)
                            + COALESCE((EXCLUDED.usage_data ->> 'count')::bigint, 0)
                        ELSE
                            GREATEST(COALESCE((daily.usage_data ->> 'count')::bigint, 0),
                                     COALESCE((EXCLUDED.usage_data ->> 'count')::bigint, 0))
                    END);
                RETURN NEW;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER trigger_aggregate_usage_event AFTER INSERT ON public.usage_events
                FOR EACH ROW EXECUTE FUNCTION public.aggregate_usage_event()
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP TRIGGER trigger_aggregate_usage_event ON public.usage_events");
        Execute.Sql("DROP FUNCTION public.aggregate_usage_event()");
    }
}

using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The daily roll-up of usage events by <see cref="M2026_02_16_0004_AddUsageEventAggregation"/>
/// (behavior.md 2.12).
/// </summary>
public sealed class UsageEventTriggerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private const string Agents = "dc_managed_agents_v1";
    private const string Seats = "hb_ai_seats_v1";

    [Fact]
    public async Task FirstEventOfTheUtcDayIsCopiedAsItCame()
    {
        // 23:30 in New York on the 1st is the 2nd in UTC, whatever the session's zone.
        await Builder.ExecuteAsync("SET TimeZone = 'America/New_York'");

        await EventAsync(Agents, """{"count": "3", "extra": [1, 2]}""", "2025-01-01 23:30:00-05");

        Assert.Equal([$$"""2025-01-02 {{Agents}} {"count": "3", "extra": [1, 2]}"""], await DailyAsync());
    }

    [Fact]
    public async Task ManagedAgentCountsOfOneDayAreSummed()
    {
        await EventAsync(Agents, """{"count": 3, "extra": true}""", "2025-01-02 00:00:00+00");
        await EventAsync(Agents, """{"count": "5"}""", "2025-01-02 12:00:00+00");
        await EventAsync(Agents, """{"count": 2}""", "2025-01-02 23:59:59+00");

        Assert.Equal([$$"""2025-01-02 {{Agents}} {"count": 10}"""], await DailyAsync());
    }

    [Fact]
    public async Task AiSeatCountsOfOneDayKeepTheHighest()
    {
        await EventAsync(Seats, """{"count": 7}""", "2025-01-02 01:00:00+00");
        await EventAsync(Seats, """{"count": 4}""", "2025-01-02 02:00:00+00");

        Assert.Equal([$$"""2025-01-02 {{Seats}} {"count": 7}"""], await DailyAsync());

        await EventAsync(Seats, """{"count": 9}""", "2025-01-02 03:00:00+00");

        Assert.Equal([$$"""2025-01-02 {{Seats}} {"count": 9}"""], await DailyAsync());
    }

    [Fact]
    public async Task MissingOrNullCountCountsAsZero()
    {
        await EventAsync(Agents, """{"other": 1}""", "2025-01-02 00:00:00+00");
        await EventAsync(Agents, """{"count": null}""", "2025-01-02 01:00:00+00");

        Assert.Equal([$$"""2025-01-02 {{Agents}} {"count": 0}"""], await DailyAsync());

        await EventAsync(Agents, """{"count": 4}""", "2025-01-02 02:00:00+00");

        Assert.Equal([$$"""2025-01-02 {{Agents}} {"count": 4}"""], await DailyAsync());
    }

    [Fact]
    public async Task DaysAndTypesHaveRowsOfTheirOwn()
    {
        await EventAsync(Agents, """{"count": 1}""", "2025-01-02 00:00:00+00");
        await EventAsync(Agents, """{"count": 2}""", "2025-01-03 00:00:00+00");
        await EventAsync(Seats, """{"count": 3}""", "2025-01-02 00:00:00+00");

        Assert.Equal(
        [
            $$"""2025-01-02 {{Agents}} {"count": 1}""",
            $$"""2025-01-02 {{Seats}} {"count": 3}""",
            $$"""2025-01-03 {{Agents}} {"count": 2}""",
        ], await DailyAsync());
    }

    [Theory]
    [InlineData("""{"count": 1.5}""")]
    [InlineData("""{"count": "abc"}""")]
    public async Task CountThatIsNotAnIntegerFailsTheEventInsert(string data)
    {
        await EventAsync(Agents, """{"count": 1}""", "2025-01-02 00:00:00+00");

        var error = await Assert.ThrowsAsync<PostgresException>(() => EventAsync(Agents, data, "2025-01-02 01:00:00+00"));

        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, error.SqlState);
        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM usage_events"));
        Assert.Equal([$$"""2025-01-02 {{Agents}} {"count": 1}"""], await DailyAsync());
    }

    [Fact]
    public async Task UnknownEventTypeIsCheckViolationBeforeTheTriggerRuns()
    {
        await Rejection.AssertAsync(() => EventAsync("other_v1", "{}", "2025-01-02 00:00:00+00"),
            PostgresErrorCodes.CheckViolation, "usage_event_type_check", "usage_events");
    }

    [Fact]
    public async Task UnknownEventTypeWithoutTheCheckIsRaisedByTheTrigger()
    {
        // The function's own guard is reachable only without the CHECK: drop it in a transaction
        // that is rolled back.
        await using var transaction = await Builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await Builder.ExecuteAsync("ALTER TABLE usage_events DROP CONSTRAINT usage_event_type_check");

        await Raised.AssertAsync(() => EventAsync("other_v1", "{}", "2025-01-02 00:00:00+00"),
            PostgresErrorCodes.RaiseException, "Unhandled usage event type in aggregate_usage_event: other_v1");
    }

    private Task<Row> EventAsync(string type, string data, string createdAt) =>
        Builder.InsertAsync("usage_events", ("event_type", type), ("event_data", data), ("created_at", createdAt));

    /// <summary>Every daily row as "day type usage_data", sorted.</summary>
    private async Task<List<string?>> DailyAsync() => await Builder.ColumnAsync<string>(
        "SELECT to_char(day, 'YYYY-MM-DD') || ' ' || event_type || ' ' || usage_data::text FROM usage_events_daily ORDER BY day, event_type");
}

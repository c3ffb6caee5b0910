using Coderd.Database.Constraints;
using Coderd.Database.Tests.Schema;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// Every CHECK constraint both ways, by real writes: each row of <see cref="ConstraintCases.Rejected"/>
/// fails with 23514 naming exactly its constraint and table, and is classified to exactly its member;
/// each row of <see cref="ConstraintCases.Accepted"/> is stored.
/// </summary>
public sealed class CheckConstraintTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    public static TheoryData<CheckConstraint> Members { get; } = [.. Enum.GetValues<CheckConstraint>()];

    public static TheoryData<CheckConstraint, string> RejectedRows { get; } = new(ConstraintCases.Rejected.Select(c => (c.Constraint, c.Scenario)));

    public static TheoryData<CheckConstraint, string> AcceptedRows { get; } = new(ConstraintCases.Accepted.Select(c => (c.Constraint, c.Scenario)));

    [Theory]
    [MemberData(nameof(Members))]
    public void EveryMemberHasARejectedAndAnAcceptedRow(CheckConstraint member)
    {
        Assert.True(ConstraintCases.Accepted.Any(c => c.Constraint == member), $"No accepted row for {member} in ConstraintCases.Accepted; add one.");
        Assert.True(
            ConstraintCases.Rejected.Any(c => c.Constraint == member) != (member == ConstraintCases.NeverRejects),
            $"{member}: every CHECK but {ConstraintCases.NeverRejects} needs a rejected row in ConstraintCases.Rejected, and that one can have none.");
    }

    [Theory]
    [MemberData(nameof(RejectedRows))]
    public async Task RejectedRowIsCheckViolationOfExactlyItsMember(CheckConstraint member, string scenario)
    {
        var row = ConstraintCases.Rejected.Single(c => c.Constraint == member && c.Scenario == scenario);

        var error = await Rejection.CaptureAsync(() => row.Write(Builder), $"the {scenario} row meant to break {member.SqlName()}");

        ConstraintCases.AssertCheckViolation(error, member);
    }

    [Theory]
    [MemberData(nameof(AcceptedRows))]
    public async Task NeighbouringRowIsAccepted(CheckConstraint member, string scenario)
    {
        var row = ConstraintCases.Accepted.Single(c => c.Constraint == member && c.Scenario == scenario);

        var stored = await row.Write(Builder);

        Assert.True(stored >= 1, $"The {scenario} row for {member.SqlName()} was not stored.");
    }

    [Fact]
    public async Task AllowListNotEmptyNeverRejectsButItsErrorIsClassified()
    {
        // Given the constraint with coderd's text,
        Assert.Equal("CHECK ((array_length(allow_list, 1) > 0))", await Builder.ScalarAsync<string>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'api_keys_allow_list_not_empty' AND conrelid = 'api_keys'::regclass"));

        // an empty array's length is NULL, which a CHECK lets through (the accepted rows store '{}'),
        Assert.True(await Builder.ScalarAsync<bool>("SELECT array_length('{}'::text[], 1) IS NULL"));

        // and NULL, the only other candidate, is stopped by NOT NULL before the CHECK is reached.
        var notNull = await Rejection.CaptureAsync(
            () => Builder.InsertAsync("api_keys", new Dictionary<string, object?> { ["allow_list"] = null }), "an API key with a NULL allow list");
        Assert.Equal((PostgresErrorCodes.NotNullViolation, "allow_list", (string?)null), (notNull.SqlState, notNull.ColumnName, notNull.ConstraintName));

        // So its error is built as PostgreSQL 15 would send it, and classified like the others.
        var error = ConstraintCases.AsTheServerWouldSend(PostgresErrorCodes.CheckViolation, "api_keys", "api_keys_allow_list_not_empty");
        ConstraintCases.AssertCheckViolation(error, ConstraintCases.NeverRejects);
    }

    [Fact]
    public async Task SecondUsageLimitConfigRowIsUniqueViolationOfSingletonKeyNotSingletonCheck()
    {
        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM chat_usage_limit_config WHERE singleton"));

        var error = await Rejection.CaptureAsync(
            () => Builder.ExecuteAsync("INSERT INTO chat_usage_limit_config DEFAULT VALUES"), "a second chat_usage_limit_config row");

        ConstraintCases.AssertUniqueViolation(error, UniqueConstraint.ChatUsageLimitConfigSingletonKey);
    }
}

using Coderd.Database.Constraints;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>Every CHECK constraint, broken by a real write, is classified to exactly its own member.</summary>
public sealed class CheckViolationTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    public static TheoryData<CheckConstraint> WritableMembers { get; } =
        [.. Enum.GetValues<CheckConstraint>().Where(c => c != CheckConstraint.ApiKeysAllowListNotEmpty)];

    [Theory]
    [MemberData(nameof(WritableMembers))]
    public async Task RealViolationIsClassifiedToExactlyItsMember(CheckConstraint member)
    {
        Assert.True(ViolatingWrites.Check.TryGetValue(member, out var write),
            $"No violating write for {member} in ViolatingWrites.Check; add one (a constraint that no row can break belongs with ApiKeysAllowListNotEmpty).");

        var error = await ViolatingWrites.CaptureAsync(database, write);

        AssertClassifiedTo(member, error);
    }

    [Fact]
    public void AllowListNotEmptyAsTheServerWouldSendItIsClassifiedToItsMember()
    {
        // No row can break it (see ViolatingWrites.Check), so the error is built from the fields
        // PostgreSQL 15 sends for a CHECK violation.
        var error = new PostgresException(
            messageText: "new row for relation \"api_keys\" violates check constraint \"api_keys_allow_list_not_empty\"",
            severity: "ERROR",
            invariantSeverity: "ERROR",
            sqlState: PostgresErrorCodes.CheckViolation,
            detail: "Failing row contains (...).",
            schemaName: "public",
            tableName: "api_keys",
            constraintName: "api_keys_allow_list_not_empty",
            file: "execMain.c",
            line: "2074",
            routine: "ExecConstraints");

        AssertClassifiedTo(CheckConstraint.ApiKeysAllowListNotEmpty, error);
    }

    [Fact]
    public async Task EmptyAllowListIsAccepted()
    {
        // Pins why ApiKeysAllowListNotEmpty is tested without a write: '{}' passes the check.
        var parents = new ViolatingWrites.Parents();
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(parents.InsertSql + $"""

            INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, scopes, allow_list)
                VALUES ('k-{Guid.NewGuid():N}', '\x00', '{parents.User}', now(), now(), now(), now(), 'token', '{"{all}"}', '{"{}"}');
            """, connection, transaction);

        var rows = await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);

        Assert.True(rows > 0);
        await transaction.RollbackAsync(TestContext.Current.CancellationToken);
    }

    private static void AssertClassifiedTo(CheckConstraint member, PostgresException error)
    {
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.True(error.IsCheckViolation(member), $"IsCheckViolation({member}) was false for {error.ConstraintName}.");
        Assert.True(error.IsCheckViolation(), "IsCheckViolation() with no member was false.");
        foreach (var other in Enum.GetValues<CheckConstraint>().Where(c => c != member))
        {
            Assert.False(error.IsCheckViolation(other), $"IsCheckViolation({other}) was true for {member}.");
        }

        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Check, violation.Kind);
        Assert.Equal(member, violation.Check);
        Assert.Null(violation.Unique);
        Assert.Null(violation.ForeignKey);
        Assert.Equal(member.SqlName(), violation.ConstraintName);
        Assert.Equal(member.TableName(), violation.TableName);
    }
}

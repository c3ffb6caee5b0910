using Coderd.Database.Constraints;
using Coderd.Database.Tests.Schema;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// Every foreign key, by real writes, one case per member of <see cref="ForeignKeyConstraint"/> from
/// the catalog: a row naming a missing parent fails with 23503 classified to exactly that member,
/// and deleting a parent that has a child does what the key's ON DELETE says (RESTRICT and NO
/// ACTION block it, classified the same way, RESTRICT with 23001 on PostgreSQL 18; CASCADE deletes
/// the child; SET NULL empties its column).
/// </summary>
public sealed class ForeignKeyConstraintTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    public static TheoryData<ForeignKeyConstraint> Members { get; } = [.. Enum.GetValues<ForeignKeyConstraint>()];

    [Theory]
    [MemberData(nameof(Members))]
    public async Task MissingParentIsForeignKeyViolationOfExactlyItsMember(ForeignKeyConstraint member)
    {
        var key = ConstraintCases.ForeignKey(Builder, member.SqlName());

        var error = await ConstraintCases.MissingParentAsync(Builder, key);

        ConstraintCases.AssertForeignKeyViolation(error, member);
    }

    [Theory]
    [MemberData(nameof(Members))]
    public async Task DeletingParentDoesWhatItsMemberSays(ForeignKeyConstraint member)
    {
        // Given a parent, a child referencing it, and nothing else that keeps the parent,
        var key = ConstraintCases.ForeignKey(Builder, member.SqlName());
        var (child, delete) = await ConstraintCases.ParentWithChildAsync(Builder, key);
        var childSql = $"SELECT count(*) FROM {RowBuilder.Qualified(key.Table)} WHERE ";
        Assert.Equal(1L, await Builder.ScalarAsync<long>(childSql + child.WhereSql()));

        // when the parent is deleted:
        switch (key.OnDelete)
        {
            case 'a':
                ConstraintCases.AssertForeignKeyViolation(await Rejection.CaptureAsync(() => Builder.ExecuteAsync(delete), $"deleting a {key.ReferencedTable} row {key.Name} protects"), member);
                break;
            case 'r':
                // PostgreSQL 18 reports a RESTRICT key with 23001 (restrict_violation), earlier majors with 23503:
                // the major decides which one this server must send, and the classifier must report it as sent.
                ConstraintCases.AssertForeignKeyViolation(
                    await Rejection.CaptureAsync(() => Builder.ExecuteAsync(delete), $"deleting a {key.ReferencedTable} row {key.Name} protects"),
                    member, Builder.Connection.PostgreSqlVersion.Major >= 18 ? PostgresErrorCodes.RestrictViolation : PostgresErrorCodes.ForeignKeyViolation);
                break;
            case 'c':
                Assert.Equal(1, await Builder.ExecuteAsync(delete));
                Assert.Equal(0L, await Builder.ScalarAsync<long>(childSql + child.WhereSql()));
                break;
            case 'n':
                Assert.Equal(1, await Builder.ExecuteAsync(delete));
                Assert.Equal(1L, await Builder.ScalarAsync<long>($"{childSql}{child.WhereSql(key.Column)} AND {RowBuilder.Quote(key.Column)} IS NULL"));
                break;
            default:
                Assert.Fail($"{key.Name} has ON DELETE '{key.OnDelete}', which this test does not know; add its outcome.");
                break;
        }
    }
}

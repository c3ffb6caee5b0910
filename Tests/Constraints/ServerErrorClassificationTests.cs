using Coderd.Database.Constraints;
using Coderd.Database.Tests.Schema;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// Real server errors that are not a violation of a known CHECK, UNIQUE or FOREIGN KEY: a NOT NULL
/// violation (a column, no constraint), a constraint this build does not know, another class of error.
/// </summary>
public sealed class ServerErrorClassificationTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    [Fact]
    public async Task NullInNotNullColumnIsNotNullViolationNamingTheColumn()
    {
        var error = await Rejection.CaptureAsync(
            () => Builder.InsertAsync("mcp_server_configs", new Dictionary<string, object?> { ["display_name"] = null }), "a NULL display_name");

        Assert.Equal(
            (PostgresErrorCodes.NotNullViolation, "mcp_server_configs", "display_name", (string?)null),
            (error.SqlState, error.TableName, error.ColumnName, error.ConstraintName));
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(
            (ConstraintKind.NotNull, "display_name", "mcp_server_configs", (string?)null),
            (violation.Kind, violation.ColumnName, violation.TableName, violation.ConstraintName));
        Assert.Equal(
            ((CheckConstraint?)null, (UniqueConstraint?)null, (ForeignKeyConstraint?)null),
            (violation.Check, violation.Unique, violation.ForeignKey));
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());
    }

    [Fact]
    public async Task ConstraintUnknownToThisBuildIsReportedWithoutTypedValue()
    {
        // A constraint a newer schema might add: a real server error, a name not in the enums.
        var error = await Rejection.CaptureAsync(
            () => Builder.ExecuteAsync("CREATE TEMP TABLE newer_schema (n int CONSTRAINT newer_schema_n_check CHECK (n > 0)); INSERT INTO newer_schema VALUES (0)"),
            "a row breaking a temporary table's CHECK");

        Assert.True(error.IsCheckViolation());
        Assert.DoesNotContain(Enum.GetValues<CheckConstraint>(), member => error.IsCheckViolation(member));
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(
            (ConstraintKind.Check, "newer_schema_n_check", "newer_schema", (CheckConstraint?)null),
            (violation.Kind, violation.ConstraintName, violation.TableName, violation.Check));
    }

    [Fact]
    public async Task ErrorOfAnotherClassIsNoViolation()
    {
        var error = await Rejection.CaptureAsync(() => Builder.ExecuteAsync("INSERT INTO no_such_table VALUES (1)"), "an insert into a missing table");

        Assert.Equal(PostgresErrorCodes.UndefinedTable, error.SqlState);
        Assert.False(error.TryGetConstraintViolation(out var violation));
        Assert.Null(violation);
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());
    }
}

using Coderd.Database.Constraints;
using Npgsql;

namespace Coderd.Database.UnitTests.Constraints;

/// <summary>How <see cref="ConstraintErrors"/> finds and classifies an error, on errors built the way Npgsql builds them.</summary>
public sealed class ConstraintErrorsTests
{
    private const string TransportCheck = "mcp_server_configs_transport_check";

    [Fact]
    public void NullIsNoViolation()
    {
        Exception? nothing = null;

        Assert.False(nothing.IsCheckViolation());
        Assert.False(nothing.IsUniqueViolation());
        Assert.False(nothing.IsForeignKeyViolation());
        Assert.False(nothing.TryGetConstraintViolation(out var violation));
        Assert.Null(violation);
    }

    [Fact]
    public void NonPostgresExceptionIsNoViolation()
    {
        // The message names a constraint: classification must not read messages.
        var error = new InvalidOperationException($"violates check constraint \"{TransportCheck}\" (SQLSTATE 23514)");

        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck));
        Assert.False(error.TryGetConstraintViolation(out _));
    }

    public static TheoryData<string> Wrappers { get; } = ["InvalidOperationException", "AggregateException", "NestedAggregateException", "FluentMigratorStyle", "SecondOfAggregate"];

    [Theory]
    [MemberData(nameof(Wrappers))]
    public void WrappedViolationIsStillFound(string wrapper)
    {
        var error = Violation(PostgresErrorCodes.CheckViolation, TransportCheck, "mcp_server_configs");
        var wrapped = wrapper switch
        {
            "InvalidOperationException" => new InvalidOperationException("Saving the MCP server failed.", error),
            "AggregateException" => new AggregateException(error),
            "NestedAggregateException" => new AggregateException(new InvalidOperationException("outer", new AggregateException(error))),
            // FluentMigrator wraps server errors in a plain Exception.
            "FluentMigratorStyle" => new Exception("An error occurred executing the following sql: UPDATE ...", error),
            "SecondOfAggregate" => new AggregateException(new TimeoutException(), new InvalidOperationException("x", error)),
            _ => throw new ArgumentOutOfRangeException(nameof(wrapper)),
        };

        Assert.True(wrapped.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck));
        Assert.True(wrapped.TryGetConstraintViolation(out var violation));
        Assert.Equal(CheckConstraint.McpServerConfigsTransportCheck, violation.Check);
    }

    [Fact]
    public void NoMembersMeansAnyConstraintOfThatKind()
    {
        var unique = Violation(PostgresErrorCodes.UniqueViolation, "mcp_server_configs_slug_key", "mcp_server_configs");
        var foreignKey = Violation(PostgresErrorCodes.ForeignKeyViolation, "mcp_server_configs_api_key_value_key_id_fkey", "mcp_server_configs");

        Assert.True(unique.IsUniqueViolation());
        Assert.False(unique.IsForeignKeyViolation());
        Assert.False(unique.IsCheckViolation());
        Assert.True(foreignKey.IsForeignKeyViolation());
        Assert.False(foreignKey.IsUniqueViolation());
    }

    [Fact]
    public void SameNameWithOtherSqlStateIsNotThatKind()
    {
        // Classification is by SQLSTATE first: a name alone decides nothing.
        var error = Violation(PostgresErrorCodes.UniqueViolation, TransportCheck, "mcp_server_configs");

        Assert.False(error.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck));
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Unique, violation.Kind);
        Assert.Null(violation.Check);
        Assert.Null(violation.Unique);
    }

    [Fact]
    public void UnknownConstraintNameGivesViolationWithNullTypedValue()
    {
        var error = Violation(PostgresErrorCodes.UniqueViolation, "mcp_server_configs_url_key", "mcp_server_configs");

        Assert.True(error.IsUniqueViolation());
        Assert.False(error.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey));
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Unique, violation.Kind);
        Assert.Equal("mcp_server_configs_url_key", violation.ConstraintName);
        Assert.Null(violation.Unique);
    }

    [Fact]
    public void RestrictViolationIsForeignKeyViolationOfThatKey()
    {
        // PostgreSQL 18 raises 23001 when ON DELETE RESTRICT blocks a delete, naming the key and the referencing table.
        var error = Violation(PostgresErrorCodes.RestrictViolation, "workspaces_template_id_fkey", "workspaces");

        Assert.True(error.IsForeignKeyViolation(ForeignKeyConstraint.WorkspacesTemplateIdFkey));
        Assert.True(error.IsForeignKeyViolation(ForeignKeyConstraint.TemplatesCreatedByFkey, ForeignKeyConstraint.WorkspacesTemplateIdFkey));
        Assert.True(error.IsForeignKeyViolation());
        Assert.True(new InvalidOperationException("x", error).IsForeignKeyViolation(ForeignKeyConstraint.WorkspacesTemplateIdFkey));
        Assert.False(error.IsForeignKeyViolation(ForeignKeyConstraint.WorkspacesOwnerIdFkey));
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsCheckViolation());
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.ForeignKey, violation.Kind);
        Assert.Equal(ForeignKeyConstraint.WorkspacesTemplateIdFkey, violation.ForeignKey);
        Assert.Equal(PostgresErrorCodes.RestrictViolation, violation.SqlState);
        Assert.Equal("workspaces", violation.TableName);
    }

    [Fact]
    public void ForeignKeyViolationBefore18KeepsItsOwnSqlState()
    {
        var error = Violation(PostgresErrorCodes.ForeignKeyViolation, "workspaces_template_id_fkey", "workspaces");

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.ForeignKey, violation.Kind);
        Assert.Equal(ForeignKeyConstraint.WorkspacesTemplateIdFkey, violation.ForeignKey);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, violation.SqlState);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("mcp_server_configs_url_not_null")]
    public void NotNullViolationIsClassifiedByItsColumnWhateverConstraintItNames(string? constraint)
    {
        // PostgreSQL 18 lists NOT NULL constraints as <table>_<column>_not_null; a server naming one changes nothing.
        var error = Violation(PostgresErrorCodes.NotNullViolation, constraint, "mcp_server_configs", column: "url");

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.NotNull, violation.Kind);
        Assert.Equal("url", violation.ColumnName);
        Assert.Equal(constraint, violation.ConstraintName);
        Assert.Equal(PostgresErrorCodes.NotNullViolation, violation.SqlState);
        Assert.Null(violation.Check);
        Assert.Null(violation.Unique);
        Assert.Null(violation.ForeignKey);
        Assert.Equal("NotNull violation of column url on mcp_server_configs", violation.ToString());
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());
    }

    [Fact]
    public void ExclusionViolationHasKindButNoTypedValue()
    {
        var error = Violation(PostgresErrorCodes.ExclusionViolation, "reservations_during_excl", "reservations");

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Exclusion, violation.Kind);
        Assert.Null(violation.Check);
        Assert.Null(violation.Unique);
        Assert.Null(violation.ForeignKey);
    }

    [Fact]
    public void ValueOutsideTheEnumMatchesNothing()
    {
        var error = Violation(PostgresErrorCodes.CheckViolation, TransportCheck, "mcp_server_configs");

        Assert.False(error.IsCheckViolation((CheckConstraint)int.MaxValue));
        Assert.True(error.IsCheckViolation((CheckConstraint)int.MaxValue, CheckConstraint.McpServerConfigsTransportCheck));
    }

    [Fact]
    public void ViolationToStringNamesConstraintAndTableButNoRowData()
    {
        var error = Violation(PostgresErrorCodes.CheckViolation, TransportCheck, "mcp_server_configs");

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal($"Check violation of {TransportCheck} on mcp_server_configs", violation.ToString());
    }

    [Fact]
    public void IsViolationAllocatesNothing()
    {
        var error = Violation(PostgresErrorCodes.CheckViolation, TransportCheck, "mcp_server_configs");
        Exception wrapped = new AggregateException(new InvalidOperationException("x", error));
        var restrict = Violation(PostgresErrorCodes.RestrictViolation, "workspaces_template_id_fkey", "workspaces");
        var hits = 0;
        for (var i = 0; i < 100; i++) hits += Classify(error, wrapped, restrict);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) hits += Classify(error, wrapped, restrict);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1100 * 9, hits);
        Assert.Equal(0, allocated);

        // The spans are stackalloc'ed: in a Debug build (this one) the compiler's own `params` span
        // over constants goes through RuntimeHelpers.CreateSpan unoptimized, which allocates in the
        // caller; optimized code does not (see the Bench project's MemoryDiagnoser column).
        static int Classify(Exception direct, Exception wrapped, Exception restrict)
        {
            Span<CheckConstraint> checks = stackalloc CheckConstraint[2];
            checks[0] = CheckConstraint.McpServerConfigsAuthTypeCheck;
            checks[1] = CheckConstraint.McpServerConfigsTransportCheck;
            Span<UniqueConstraint> unique = stackalloc UniqueConstraint[1];
            unique[0] = UniqueConstraint.McpServerConfigsSlugKey;
            Span<ForeignKeyConstraint> foreignKeys = stackalloc ForeignKeyConstraint[1];
            foreignKeys[0] = ForeignKeyConstraint.McpServerConfigsApiKeyValueKeyIdFkey;
            return (direct.IsCheckViolation(checks[1..]) ? 1 : 0)
                + (wrapped.IsCheckViolation(checks) ? 1 : 0)
                + (direct.IsUniqueViolation(unique) ? 0 : 1)
                + (wrapped.IsForeignKeyViolation(foreignKeys) ? 0 : 1)
                // The one-member overloads take no span at all.
                + (direct.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck) ? 1 : 0)
                + (wrapped.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck) ? 1 : 0)
                + (wrapped.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey) ? 0 : 1)
                + (restrict.IsForeignKeyViolation(ForeignKeyConstraint.WorkspacesTemplateIdFkey) ? 1 : 0)
                + (restrict.IsForeignKeyViolation(foreignKeys) ? 0 : 1);
        }
    }

    /// <summary>Fresh strings, as Npgsql decodes them: never the interned literals the enums hold.</summary>
    internal static PostgresException Violation(string sqlState, string? constraint, string table, string? column = null) => new(
        messageText: "violation",
        severity: "ERROR",
        invariantSeverity: "ERROR",
        sqlState: new string(sqlState.AsSpan()),
        schemaName: "public",
        tableName: new string(table.AsSpan()),
        columnName: column is null ? null : new string(column.AsSpan()),
        constraintName: constraint is null ? null : new string(constraint.AsSpan()));
}

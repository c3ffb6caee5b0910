using Npgsql;

namespace Coderd.Database.Constraints;

/// <summary>
/// What a failed write hit, taken from the structured fields of the server's error (never its
/// message text). Holds no row values: safe to log.
/// </summary>
public sealed class ConstraintViolation
{
    internal ConstraintViolation(ConstraintKind kind, PostgresException error)
    {
        Kind = kind;
        SqlState = error.SqlState;
        ConstraintName = error.ConstraintName;
        TableName = error.TableName;
        ColumnName = error.ColumnName;
        switch (kind)
        {
            case ConstraintKind.Check when ConstraintNames.TryParseCheck(ConstraintName, out var check):
                Check = check;
                break;
            case ConstraintKind.Unique when ConstraintNames.TryParseUnique(ConstraintName, out var unique):
                Unique = unique;
                break;
            case ConstraintKind.ForeignKey when ConstraintNames.TryParseForeignKey(ConstraintName, out var foreignKey):
                ForeignKey = foreignKey;
                break;
        }
    }

    /// <summary>Which kind of rule was broken.</summary>
    public ConstraintKind Kind { get; }

    /// <summary>
    /// The error's SQLSTATE, e.g. <c>23505</c>. For <see cref="ConstraintKind.ForeignKey"/> it is
    /// <c>23503</c>, or <c>23001</c> (restrict_violation) when PostgreSQL 18 or later blocked a delete
    /// or key update of a referenced row because of an <c>ON DELETE</c> or <c>ON UPDATE RESTRICT</c> key.
    /// </summary>
    public string SqlState { get; }

    /// <summary>
    /// The constraint's (or unique index's) SQL name. For <see cref="ConstraintKind.NotNull"/> use
    /// <see cref="ColumnName"/>: PostgreSQL leaves this null there (18 included, although it lists NOT
    /// NULL constraints as <c>&lt;table&gt;_&lt;column&gt;_not_null</c> in its catalog), and a name a
    /// server does send is kept as it is.
    /// </summary>
    public string? ConstraintName { get; }

    /// <summary>
    /// The table written to (for a foreign key violated by a delete, the referencing table). Null
    /// when the rule is not attached to a table, such as a domain's CHECK.
    /// </summary>
    public string? TableName { get; }

    /// <summary>The column, for <see cref="ConstraintKind.NotNull"/>; otherwise usually null.</summary>
    public string? ColumnName { get; }

    /// <summary>
    /// The CHECK constraint, when <see cref="Kind"/> is <see cref="ConstraintKind.Check"/> and this
    /// build knows its name; null otherwise (for instance a constraint added by a newer schema).
    /// </summary>
    public CheckConstraint? Check { get; }

    /// <summary>
    /// The primary key, UNIQUE constraint or unique index, when <see cref="Kind"/> is
    /// <see cref="ConstraintKind.Unique"/> and this build knows its name; null otherwise.
    /// </summary>
    public UniqueConstraint? Unique { get; }

    /// <summary>
    /// The foreign key, when <see cref="Kind"/> is <see cref="ConstraintKind.ForeignKey"/> and this
    /// build knows its name; null otherwise.
    /// </summary>
    public ForeignKeyConstraint? ForeignKey { get; }

    /// <summary>For logs, e.g. <c>Unique violation of mcp_server_configs_slug_key on mcp_server_configs</c>.</summary>
    public override string ToString() => Kind == ConstraintKind.NotNull
        ? $"NotNull violation of column {ColumnName ?? "?"} on {TableName ?? "?"}"
        : $"{Kind} violation of {ConstraintName ?? "?"} on {TableName ?? "?"}";
}

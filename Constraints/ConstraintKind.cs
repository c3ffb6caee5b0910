namespace Coderd.Database.Constraints;

/// <summary>Which integrity rule a write broke, from the error's SQLSTATE (class 23).</summary>
public enum ConstraintKind
{
    /// <summary>A CHECK constraint (23514); see <see cref="CheckConstraint"/>.</summary>
    Check,

    /// <summary>A primary key, UNIQUE constraint or unique index (23505); see <see cref="UniqueConstraint"/>.</summary>
    Unique,

    /// <summary>
    /// A foreign key, on insert or update of the referencing row or delete of the referenced one
    /// (23503; on PostgreSQL 18 and later 23001, restrict_violation, when an <c>ON DELETE</c> or
    /// <c>ON UPDATE RESTRICT</c> key blocks the delete or key update); see <see cref="ForeignKeyConstraint"/>.
    /// </summary>
    ForeignKey,

    /// <summary>
    /// A NULL in a NOT NULL column (23502): identified by its column, not a constraint. PostgreSQL 18
    /// lists NOT NULL constraints in its catalog (<c>&lt;table&gt;_&lt;column&gt;_not_null</c>); no
    /// generated enum does.
    /// </summary>
    NotNull,

    /// <summary>An exclusion constraint (23P01). This schema has none, so it never has a typed value.</summary>
    Exclusion,
}

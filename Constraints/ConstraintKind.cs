namespace Coderd.Database.Constraints;

/// <summary>Which integrity rule a write broke, from the error's SQLSTATE (class 23).</summary>
public enum ConstraintKind
{
    /// <summary>A CHECK constraint (23514); see <see cref="CheckConstraint"/>.</summary>
    Check,

    /// <summary>A primary key, UNIQUE constraint or unique index (23505); see <see cref="UniqueConstraint"/>.</summary>
    Unique,

    /// <summary>A foreign key, on insert or update of the referencing row or delete of the referenced one (23503); see <see cref="ForeignKeyConstraint"/>.</summary>
    ForeignKey,

    /// <summary>A NULL in a NOT NULL column (23502): it names a column, not a constraint.</summary>
    NotNull,

    /// <summary>An exclusion constraint (23P01). This schema has none, so it never has a typed value.</summary>
    Exclusion,
}

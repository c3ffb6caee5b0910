namespace Coderd.Database.Generator;

/// <summary>What a row of the catalog query is; decides the enum it lands in and its doc wording.</summary>
internal enum CatalogKind
{
    Check,
    PrimaryKey,
    Unique,
    UniqueIndex,
    ForeignKey,
}

/// <summary>One constraint (or unique index) of the <c>public</c> schema, as the catalog describes it.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Name">Its SQL name: what <c>PostgresException.ConstraintName</c> reports.</param>
/// <param name="Table">The table it belongs to.</param>
/// <param name="Definition">
/// <c>pg_get_constraintdef</c> for constraints; for a unique index its key columns and predicate,
/// e.g. <c>(lower(email)) WHERE (deleted = false)</c>.
/// </param>
internal sealed record CatalogConstraint(CatalogKind Kind, string Name, string Table, string Definition);

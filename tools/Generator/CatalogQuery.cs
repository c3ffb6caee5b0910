using Coderd.Database.Migrations;
using Npgsql;

namespace Coderd.Database.Generator;

/// <summary>Reads the constraints and unique indexes of the <c>public</c> schema from the system catalogs.</summary>
internal static class CatalogQuery
{
    /// <summary>
    /// Session settings the query runs under: the rendered text of a CHECK on a timestamptz depends
    /// on <c>TimeZone</c>, and whether a referenced table is schema-qualified on <c>search_path</c>.
    /// </summary>
    public const string SessionSql = "SET TimeZone = 'UTC'; SET search_path = public";

    /// <summary>
    /// One row per constraint of kind c, p, u, f on a table of <c>public</c>, plus one per unique
    /// index that backs no constraint (those report their own name as the constraint name when
    /// violated). Columns: kind letter ('i' for such an index), name, table, definition. Unordered:
    /// the renderer sorts.
    /// </summary>
    /// <remarks>
    /// NOT NULL constraints (<c>contype = 'n'</c>, rows of <c>pg_constraint</c> since PostgreSQL 18,
    /// named <c>&lt;table&gt;_&lt;column&gt;_not_null</c>) are left out on purpose: they are column
    /// properties, and a NOT NULL violation is classified by its column, not by an enum member.
    /// <c>conindid</c> of a foreign key points at the referenced table's index, so "backs a
    /// constraint" is restricted to constraints on the index's own table that own an index.
    /// </remarks>
    public const string Sql = """
        SELECT c.contype::text, c.conname::text, t.relname::text, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname <> $1 AND c.contype IN ('c', 'p', 'u', 'f')
        UNION ALL
        SELECT 'i', i.relname::text, t.relname::text,
               '(' || (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, false), ', ' ORDER BY k)
                       FROM generate_series(1, x.indnkeyatts) AS k) || ')'
               || coalesce(' WHERE ' || pg_get_expr(x.indpred, x.indrelid), '')
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname <> $1 AND x.indisunique
          AND NOT EXISTS (SELECT FROM pg_constraint c
                          WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))
        """;

    /// <summary>Runs <see cref="SessionSql"/> then <see cref="Sql"/> on <paramref name="connection"/>.</summary>
    public static async Task<IReadOnlyList<CatalogConstraint>> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var session = new NpgsqlCommand(SessionSql, connection))
        {
            await session.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(Sql, connection) { Parameters = { new() { Value = SchemaMigrator.VersionTable } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<CatalogConstraint>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new CatalogConstraint(ToKind(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return rows;
    }

    internal static CatalogKind ToKind(string contype) => contype switch
    {
        "c" => CatalogKind.Check,
        "p" => CatalogKind.PrimaryKey,
        "u" => CatalogKind.Unique,
        "i" => CatalogKind.UniqueIndex,
        "f" => CatalogKind.ForeignKey,
        _ => throw new InvalidOperationException($"The catalog query returned the unexpected kind '{contype}'; update {nameof(CatalogQuery)}."),
    };
}

using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// What the catalog says about the <c>public</c> schema of one database, read in a session with
/// <c>TimeZone = 'UTC'</c> and <c>search_path = public</c> so that every rendered text is stable.
/// The version table <c>schema_version</c> is left out: it is the runner's, not the schema's.
/// </summary>
/// <param name="Tables">Each table's columns in table order (dropped columns skipped).</param>
/// <param name="Constraints">Every constraint with <c>pg_get_constraintdef</c>.</param>
/// <param name="Indexes">Every index with <c>pg_get_indexdef</c>.</param>
/// <param name="Enums">Every enum type with its labels in order.</param>
/// <param name="NotValidated">Constraints still marked NOT VALID.</param>
/// <param name="Others">Every other object of the schema, one line each: sequences, views, functions, triggers, non-enum types, ...</param>
internal sealed record Catalog(
    IReadOnlyDictionary<string, IReadOnlyList<ExpectedColumn>> Tables,
    IReadOnlyList<ExpectedConstraint> Constraints,
    IReadOnlyList<ExpectedIndex> Indexes,
    IReadOnlyDictionary<string, string[]> Enums,
    IReadOnlyList<string> NotValidated,
    IReadOnlyList<string> Others)
{
    /// <summary>Reads the catalog of the database behind <paramref name="connectionString"/>.</summary>
    public static async Task<Catalog> ReadAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Timezone = "UTC", SearchPath = "public" };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);

        var tables = new Dictionary<string, IReadOnlyList<ExpectedColumn>>(StringComparer.Ordinal);
        await foreach (var row in QueryAsync(connection, """
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
            FROM pg_class c
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_version'
            ORDER BY c.relname, a.attnum
            """, cancellationToken))
        {
            var name = (string)row[0]!;
            if (!tables.TryGetValue(name, out var columns)) tables[name] = columns = new List<ExpectedColumn>();
            ((List<ExpectedColumn>)columns).Add(new ExpectedColumn((string)row[1]!, (string)row[2]!, (bool)row[3]!, (string?)row[4]));
        }

        var constraints = new List<ExpectedConstraint>();
        var notValidated = new List<string>();
        await foreach (var row in QueryAsync(connection, """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.convalidated
            FROM pg_constraint c
            WHERE c.connamespace = 'public'::regnamespace AND c.conrelid <> 0 AND c.conrelid::regclass::text <> 'schema_version'
            ORDER BY c.conname, 1
            """, cancellationToken))
        {
            constraints.Add(new ExpectedConstraint((string)row[0]!, (string)row[1]!, (string)row[2]!));
            if (!(bool)row[3]!) notValidated.Add((string)row[1]!);
        }

        var indexes = new List<ExpectedIndex>();
        await foreach (var row in QueryAsync(connection, """
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE i.relnamespace = 'public'::regnamespace AND t.relname <> 'schema_version'
            ORDER BY i.relname
            """, cancellationToken))
        {
            indexes.Add(new ExpectedIndex((string)row[0]!, (string)row[1]!, (string)row[2]!));
        }

        var enums = new Dictionary<string, string[]>(StringComparer.Ordinal);
        await foreach (var row in QueryAsync(connection, """
            SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
            WHERE t.typnamespace = 'public'::regnamespace
            GROUP BY t.typname ORDER BY t.typname
            """, cancellationToken))
        {
            enums[(string)row[0]!] = (string[])row[1]!;
        }

        // Everything else a migration could leave behind, described well enough to tell two apart.
        var others = new List<string>();
        await foreach (var row in QueryAsync(connection, """
            SELECT 'sequence ' || s.relname || coalesce(' owned by ' || t.relname || '.' || a.attname, '')
            FROM pg_class s
            LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
            LEFT JOIN pg_class t ON t.oid = d.refobjid
            LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE s.relnamespace = 'public'::regnamespace AND s.relkind = 'S'
            UNION ALL
            SELECT 'relation ' || relname || ' of kind ' || relkind::text
            FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind NOT IN ('r', 'p', 'i', 'S')
            UNION ALL
            SELECT 'type ' || typname || ' of kind ' || typtype::text
            FROM pg_type t
            WHERE typnamespace = 'public'::regnamespace AND typtype NOT IN ('e', 'c') AND typelem = 0
            UNION ALL
            SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass::text FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
            UNION ALL
            SELECT 'rule ' || rulename || ' on ' || tablename FROM pg_rules WHERE schemaname = 'public'
            UNION ALL
            SELECT 'policy ' || policyname || ' on ' || tablename FROM pg_policies WHERE schemaname = 'public'
            UNION ALL
            SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
            UNION ALL
            SELECT 'schema ' || nspname FROM pg_namespace
            WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT 'identity or generated column ' || c.relname || '.' || a.attname
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace = 'public'::regnamespace AND (a.attidentity <> '' OR a.attgenerated <> '')
            ORDER BY 1
            """, cancellationToken))
        {
            others.Add((string)row[0]!);
        }

        return new Catalog(tables, constraints, indexes, enums, notValidated, others);
    }

    /// <summary>
    /// The whole catalog as text, one object per line, sorted: equal texts mean equal schemas as far
    /// as this class can tell (column order included, column numbers not).
    /// </summary>
    public string Render()
    {
        var lines = new List<string>();
        foreach (var (table, columns) in Tables)
        {
            for (var i = 0; i < columns.Count; i++)
            {
                var c = columns[i];
                lines.Add($"column {table} #{i + 1:00} {c.Name} {c.Type}{(c.NotNull ? " NOT NULL" : "")}{(c.Default is null ? "" : $" DEFAULT {c.Default}")}");
            }
        }

        lines.AddRange(Constraints.Select(c => $"constraint {c.Table}.{c.Name} {c.Definition}{(NotValidated.Contains(c.Name) ? " NOT VALID" : "")}"));
        lines.AddRange(Indexes.Select(i => $"index {i.Definition}"));
        lines.AddRange(Enums.Select(e => $"enum {e.Key} ({string.Join(", ", e.Value)})"));
        lines.AddRange(Others);
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines) + "\n";
    }

    private static async IAsyncEnumerable<object?[]> QueryAsync(
        NpgsqlConnection connection, string sql, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            yield return row;
        }
    }
}

using Npgsql;

namespace Coderd.Database.Migrations;

/// <summary>
/// Reads <see cref="SnapshotFacts"/> from pg_catalog in one read-only transaction (one consistent
/// view of the catalog), with the session settings that make rendered texts the same everywhere.
/// </summary>
internal static class SnapshotReader
{
    /// <summary>
    /// <c>search_path</c> pinned with pg_catalog first: every catalog name below resolves there
    /// whatever the database holds, and the renderers leave out <c>public.</c> as the specification
    /// does. The other settings fix how constants in defaults and checks are printed.
    /// </summary>
    private static readonly string[] Settings =
    [
        RunnerSql.PinSearchPath,
        "SET LOCAL TimeZone = 'UTC'",
        "SET LOCAL DateStyle = 'ISO, MDY'",
        "SET LOCAL IntervalStyle = 'postgres'",
        "SET LOCAL extra_float_digits = 1",
        "SET LOCAL bytea_output = 'hex'",
    ];

    /// <summary>Objects an extension created are the extension's, not the schema's.</summary>
    private static string NotFromExtension(string catalog, string oid) =>
        $"NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')";

    private const string InPublic = $"'{SchemaMigrator.Schema}'::pg_catalog.regnamespace";

    // Tables, partitioned tables, views and materialized views of the schema, less the runner's table.
    private static readonly string Relation =
        $"c.relnamespace = {InPublic} AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname <> '{SchemaMigrator.VersionTable}' AND {NotFromExtension("pg_class", "c.oid")}";

    private static readonly string TypesSql = $"""
        SELECT t.typname, t.typtype::text,
               CASE t.typtype WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) WHEN 'r' THEN format_type(g.rngsubtype, NULL) END
        FROM pg_type t
        LEFT JOIN pg_class r ON r.oid = t.typrelid
        LEFT JOIN pg_range g ON g.rngtypid = t.oid
        WHERE t.typnamespace = {InPublic}
          -- A multirange type (PostgreSQL 14 on) is made with each range type: it is the range's.
          AND t.typtype <> 'm'
          -- The row type of a table or view is the relation's.
          AND (t.typtype <> 'c' OR r.relkind = 'c')
          -- So is the array type PostgreSQL makes with every type.
          AND NOT EXISTS (SELECT FROM pg_type e WHERE e.typarray = t.oid)
          AND {NotFromExtension("pg_type", "t.oid")}
        ORDER BY t.typname COLLATE "C"
        """;

    private static readonly string LabelsSql = $"""
        SELECT t.typname, e.enumlabel
        FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
        WHERE t.typnamespace = {InPublic}
        ORDER BY t.typname COLLATE "C", e.enumsortorder
        """;

    private static readonly string FieldsSql = $"""
        SELECT t.typname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_type t
        JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
        JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE t.typnamespace = {InPublic}
        ORDER BY t.typname COLLATE "C", a.attnum
        """;

    private static readonly string SequencesSql = $"""
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, o.owner
        FROM pg_class c
        JOIN pg_sequence s ON s.seqrelid = c.oid
        -- The column of a serial ('a') or identity ('i') column owns its sequence.
        LEFT JOIN LATERAL (
            SELECT t.relname || '.' || a.attname AS owner
            FROM pg_depend d
            JOIN pg_class t ON t.oid = d.refobjid
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        ) o ON true
        WHERE c.relnamespace = {InPublic} AND c.relkind = 'S' AND {NotFromExtension("pg_class", "c.oid")}
        ORDER BY c.relname COLLATE "C"
        """;

    private static readonly string RelationsSql = $"""
        SELECT c.relname, c.relkind::text FROM pg_class c WHERE {Relation} ORDER BY c.relname COLLATE "C"
        """;

    private static readonly string ColumnsSql = $"""
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
               CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE {Relation}
        ORDER BY c.relname COLLATE "C", a.attnum
        """;

    private static readonly string ConstraintsSql = $"""
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE {Relation}
          -- PostgreSQL 18 keeps each NOT NULL as a constraint row too; here it is the column's not_null.
          AND k.contype <> 'n'
        ORDER BY c.relname COLLATE "C", k.conname COLLATE "C"
        """;

    private static readonly string IndexesSql = $"""
        SELECT c.relname, quote_ident(c.relname), i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        WHERE {Relation}
          -- The index behind a primary key, unique or exclusion constraint is that constraint.
          AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))
        ORDER BY c.relname COLLATE "C", i.relname COLLATE "C"
        """;

    private static readonly string TriggersSql = $"""
        SELECT c.relname, quote_ident(c.relname), g.tgname, pg_get_triggerdef(g.oid)
        FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
        WHERE {Relation} AND NOT g.tgisinternal
        ORDER BY c.relname COLLATE "C", g.tgname COLLATE "C"
        """;

    private static readonly string FunctionsSql = $"""
        SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname, p.provolatile::text
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = {InPublic} AND {NotFromExtension("pg_proc", "p.oid")}
          -- The constructors PostgreSQL makes with a range type (and, from 14 on, its multirange) are the type's.
          AND NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype = 'i')
        ORDER BY p.proname COLLATE "C", pg_get_function_arguments(p.oid) COLLATE "C"
        """;

    public static async Task<SnapshotFacts> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var settings = new NpgsqlBatch(connection, transaction))
        {
            settings.BatchCommands.Add(new NpgsqlBatchCommand("SET TRANSACTION READ ONLY"));
            foreach (var setting in Settings) settings.BatchCommands.Add(new NpgsqlBatchCommand(setting));
            await settings.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new(TypesSql), new(LabelsSql), new(FieldsSql), new(SequencesSql), new(RelationsSql),
                new(ColumnsSql), new(ConstraintsSql), new(IndexesSql), new(TriggersSql), new(FunctionsSql),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

        var typeRows = await RowsAsync(reader, r => (Name: r.GetString(0), Kind: r.GetString(1), Base: Text(r, 2)), cancellationToken);
        var labels = Group(await RowsAsync(reader, r => (r.GetString(0), r.GetString(1)), cancellationToken));
        var fields = Group(await RowsAsync(reader, r => (r.GetString(0), new NameAndType(r.GetString(1), r.GetString(2))), cancellationToken));
        var sequences = await RowsAsync(reader, r => new SequenceFact(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), Text(r, 4)), cancellationToken);
        var relations = await RowsAsync(reader, r => (Name: r.GetString(0), Kind: r.GetString(1)), cancellationToken);
        var columns = Group(await RowsAsync(reader, r => (r.GetString(0),
            new ColumnFact(r.GetString(1), r.GetString(2), r.GetBoolean(3), Text(r, 4), Text(r, 5))), cancellationToken));
        var constraints = Group(await RowsAsync(reader, r => (r.GetString(0), new ConstraintFact(r.GetString(1), r.GetString(2), r.GetString(3))), cancellationToken));
        var indexes = Group(await RowsAsync(reader, r => (r.GetString(0), new DefinitionFact(r.GetString(2), Unqualify(r.GetString(3), r.GetString(1)))), cancellationToken));
        var triggers = Group(await RowsAsync(reader, r => (r.GetString(0), new DefinitionFact(r.GetString(2), Unqualify(r.GetString(3), r.GetString(1)))), cancellationToken));
        var functions = await RowsAsync(reader, r => new FunctionFact(r.GetString(0), r.GetString(1), Text(r, 2), r.GetString(3), r.GetString(4)), cancellationToken);
        await reader.DisposeAsync();
        await transaction.CommitAsync(cancellationToken);

        var types = typeRows.Select(t => t.Kind switch
        {
            "e" => new TypeFact(t.Name, "enum", Labels: labels.GetValueOrDefault(t.Name, [])),
            "c" => new TypeFact(t.Name, "composite", Fields: fields.GetValueOrDefault(t.Name, [])),
            "d" => new TypeFact(t.Name, "domain", Base: t.Base),
            "r" => new TypeFact(t.Name, "range", Base: t.Base),
            "p" => new TypeFact(t.Name, "pseudo"),
            _ => new TypeFact(t.Name, "base"),
        }).ToList();
        var tables = relations.Where(r => r.Kind is "r" or "p")
            .Select(r => new TableFact(r.Name, columns.GetValueOrDefault(r.Name, []), constraints.GetValueOrDefault(r.Name, []),
                indexes.GetValueOrDefault(r.Name, []), triggers.GetValueOrDefault(r.Name, [])))
            .ToList();
        var views = relations.Where(r => r.Kind is "v" or "m")
            .Select(r => new ViewFact(r.Name, r.Kind, columns.GetValueOrDefault(r.Name, []).Select(c => new NameAndType(c.Name, c.Type)).ToList()))
            .ToList();
        return new SnapshotFacts(types, sequences, tables, views, functions);
    }

    /// <summary>
    /// pg_get_indexdef and pg_get_triggerdef name the table with its schema whatever the search
    /// path (<c>ON public.users</c>); the specification leaves the prefix out, as for every other name.
    /// </summary>
    internal static string Unqualify(string definition, string quotedTable)
    {
        var qualified = $" public.{quotedTable} ";
        var at = definition.IndexOf(qualified, StringComparison.Ordinal);
        return at < 0 ? definition : definition[..at] + " " + quotedTable + " " + definition[(at + qualified.Length)..];
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Every row of the current result set, then moves to the next one.</summary>
    private static async Task<List<T>> RowsAsync<T>(NpgsqlDataReader reader, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken)) rows.Add(read(reader));
        await reader.NextResultAsync(cancellationToken);
        return rows;
    }

    /// <summary>Rows grouped by their first value, keeping their order.</summary>
    private static Dictionary<string, IReadOnlyList<T>> Group<T>(List<(string Key, T Value)> rows)
    {
        var groups = new Dictionary<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        foreach (var (key, value) in rows)
        {
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = new List<T>();
            ((List<T>)list).Add(value);
        }

        return groups;
    }
}

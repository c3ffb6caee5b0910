using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Inserts valid rows into any table of a migrated database, reading what "valid" means from its
/// catalog: every NOT NULL column without a default gets a fresh value of its type, a column whose
/// CHECK lists the accepted values gets one of them, and each NOT NULL foreign key gets a parent row
/// of its own, built the same way (recursively). Callers override any column.
/// </summary>
/// <remarks>
/// Values travel as text in each type's input/output form (<c>'...'::type</c> in, <c>column::text</c>
/// out), so one code path serves enums, arrays, jsonb, domains such as <c>tagset</c>, <c>inet</c> and
/// <c>bytea</c> alike. The builder runs on the caller's connection, so inside the caller's
/// transaction; the database's triggers run as for any other insert.
/// </remarks>
internal sealed class RowBuilder
{
    /// <summary>An override meaning "leave the column out and let its default apply".</summary>
    public static readonly object Default = new();

    /// <summary>
    /// Columns that must be filled although they have a default, because that default is rejected:
    /// <c>users.username</c> defaults to <c>''</c>, which <c>users_username_min_length</c> refuses.
    /// </summary>
    private static readonly HashSet<(string Table, string Column)> DefaultRejected = [("users", "username")];

    private static readonly ConcurrentDictionary<string, Task<SchemaCatalog>> Catalogs = new(StringComparer.Ordinal);

    private readonly NpgsqlConnection connection;
    private readonly Dictionary<(string Table, string Column), int> counters = [];

    private RowBuilder(NpgsqlConnection connection, SchemaCatalog catalog)
    {
        this.connection = connection;
        Catalog = catalog;
    }

    /// <summary>What the catalog of the connection's database says about its tables, keys and unique indexes.</summary>
    public SchemaCatalog Catalog { get; }

    /// <summary>
    /// A builder writing through <paramref name="connection"/> (open). The catalog is read once per
    /// database name and shared: every copy of the migrated template has the same schema.
    /// </summary>
    public static async Task<RowBuilder> CreateAsync(NpgsqlConnection connection)
    {
        var catalog = await Catalogs.GetOrAdd(connection.Database, _ => SchemaCatalog.ReadAsync(connection));
        return new RowBuilder(connection, catalog);
    }

    /// <summary>An override holding an SQL expression instead of a value, e.g. <c>new Sql("now()")</c>.</summary>
    public sealed record Sql(string Expression);

    /// <summary>
    /// Inserts one row into <paramref name="table"/> and returns it as stored (after defaults and
    /// BEFORE triggers). <paramref name="overrides"/> maps a column to its text value, to null for
    /// NULL, to <see cref="Sql"/> for an expression, or to <see cref="Default"/>; an overridden
    /// foreign key column gets no parent row. Columns in <paramref name="fill"/> are filled like
    /// required ones although they are nullable or have a default.
    /// </summary>
    public async Task<Row> InsertAsync(string table, IReadOnlyDictionary<string, object?>? overrides = null, IReadOnlyCollection<string>? fill = null)
    {
        var info = Catalog.Table(table);
        overrides ??= new Dictionary<string, object?>();
        fill ??= [];
        foreach (var column in overrides.Keys.Concat(fill))
        {
            if (!info.Columns.Any(c => c.Name == column)) throw new ArgumentException($"Table {table} has no column {column}; fix the override.", nameof(table));
        }

        var columns = new List<string>();
        var values = new List<string>();
        foreach (var column in info.Columns)
        {
            string? value;
            if (overrides.TryGetValue(column.Name, out var given))
            {
                if (ReferenceEquals(given, Default)) continue;
                value = given switch
                {
                    null => "NULL",
                    Sql expression => expression.Expression,
                    string text => Literal(text, column),
                    _ => throw new ArgumentException($"The override of {table}.{column.Name} is a {given.GetType().Name}; give text, null, Sql or Default.", nameof(overrides)),
                };
            }
            else if (column.Generated)
            {
                continue;
            }
            else if (info.ForeignKeys.FirstOrDefault(k => k.Column == column.Name) is { } key && (column.NotNull || fill.Contains(column.Name)))
            {
                var parent = await InsertAsync(key.ReferencedTable, fill: [key.ReferencedColumn]);
                value = Literal(parent[key.ReferencedColumn], column);
            }
            else if ((column.NotNull && (!column.HasDefault || DefaultRejected.Contains((table, column.Name)))) || fill.Contains(column.Name))
            {
                value = Literal(NewValue(table, column), column);
            }
            else
            {
                continue;
            }

            columns.Add(Quote(column.Name));
            values.Add(value);
        }

        var returning = string.Join(", ", info.Columns.Select(c => $"{Quote(c.Name)}::text"));
        var sql = columns.Count == 0
            ? $"INSERT INTO {Quote(table)} DEFAULT VALUES RETURNING {returning}"
            : $"INSERT INTO {Quote(table)} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", values)}) RETURNING {returning}";
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        await reader.ReadAsync(TestContext.Current.CancellationToken);
        var row = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < info.Columns.Count; i++)
        {
            row[info.Columns[i].Name] = reader.IsDBNull(i) ? null : reader.GetString(i);
        }

        return new Row(table, row);
    }

    /// <summary>Runs <paramref name="sql"/> on the builder's connection and returns the rows affected.</summary>
    public async Task<int> ExecuteAsync(string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Runs a query on the builder's connection and returns its single value.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>
    /// A value of <paramref name="column"/>'s type, in text form, that no earlier call gave for the
    /// same column: numbers count up from 1, timestamps from 2026-01-01 by the minute, text is
    /// <c>column-n</c>; a CHECK'd set of values is walked through in order, enums and booleans take
    /// their first value, arrays are empty and json an empty object.
    /// </summary>
    public string NewValue(string table, SchemaCatalog.Column column)
    {
        var n = counters[(table, column.Name)] = counters.GetValueOrDefault((table, column.Name)) + 1;
        if (column.Accepted.Count > 0) return column.Accepted[(n - 1) % column.Accepted.Count];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(n);
        return column.Kind switch
        {
            "uuid" => Guid.NewGuid().ToString(),
            "text" or "character varying" or "character" or "citext" => $"{column.Name}-{n}",
            "smallint" or "integer" or "bigint" or "numeric" or "real" or "double precision" => n.ToString(CultureInfo.InvariantCulture),
            "boolean" => "false",
            "timestamp with time zone" => start.ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture),
            "timestamp without time zone" => start.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            "date" => start.AddDays(n).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            "interval" => $"{n} seconds",
            "jsonb" or "json" => "{}",
            "bytea" => $"\\x{n:x8}",
            "inet" or "cidr" => $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/32",
            SchemaCatalog.ArrayKind => "{}",
            SchemaCatalog.EnumKind => column.Accepted[0],
            _ => throw new NotSupportedException($"RowBuilder has no value for type {column.Type} of {table}.{column.Name}; add its kind to NewValue."),
        };
    }

    /// <summary>
    /// A value of <paramref name="column"/>'s type that no row of the table its foreign key points to
    /// can hold: a new uuid, a never-generated text, a number beyond any counter.
    /// </summary>
    public string MissingValue(string table, SchemaCatalog.Column column) => column.Kind switch
    {
        "smallint" => "32000",
        "integer" or "bigint" => "2000000000",
        "text" or "character varying" => $"missing-{NewValue(table, column)}",
        _ => NewValue(table, column),
    };

    /// <summary>An SQL literal of <paramref name="text"/> cast to <paramref name="column"/>'s type; NULL for null.</summary>
    public static string Literal(string? text, SchemaCatalog.Column column) =>
        text is null ? "NULL" : $"'{text.Replace("'", "''", StringComparison.Ordinal)}'::{column.Type}";

    /// <summary>A double-quoted SQL identifier.</summary>
    public static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}

/// <summary>A row as the database stored it: every column's value in its type's text form, NULL as null.</summary>
internal sealed class Row(string table, IReadOnlyDictionary<string, string?> values)
{
    /// <summary>The table the row is in.</summary>
    public string Table { get; } = table;

    /// <summary>All columns of the row.</summary>
    public IReadOnlyDictionary<string, string?> Values { get; } = values;

    /// <summary>The value of <paramref name="column"/>.</summary>
    public string? this[string column] => Values.TryGetValue(column, out var value)
        ? value
        : throw new KeyNotFoundException($"Table {Table} has no column {column}.");

    /// <summary>An SQL condition matching this row on every column but <paramref name="except"/> (compared as text).</summary>
    public string WhereSql(params string[] except)
    {
        var where = new StringBuilder();
        foreach (var (column, value) in Values)
        {
            if (except.Contains(column)) continue;
            if (where.Length > 0) where.Append(" AND ");
            where.Append(CultureInfo.InvariantCulture, $"{RowBuilder.Quote(column)}::text IS NOT DISTINCT FROM ")
                .Append(value is null ? "NULL" : $"'{value.Replace("'", "''", StringComparison.Ordinal)}'");
        }

        return where.Length == 0 ? "true" : where.ToString();
    }
}

/// <summary>
/// The parts of the catalog the <see cref="RowBuilder"/> and the constraint cases need: each table's
/// columns (type, NOT NULL, default, accepted values), its foreign keys, and every unique index
/// (primary keys and UNIQUE constraints included, each named as the constraint it backs).
/// </summary>
internal sealed partial class SchemaCatalog
{
    /// <summary><see cref="Column.Kind"/> of array columns.</summary>
    public const string ArrayKind = "array";

    /// <summary><see cref="Column.Kind"/> of enum columns.</summary>
    public const string EnumKind = "enum";

    private readonly Dictionary<string, TableInfo> tables;

    private SchemaCatalog(Dictionary<string, TableInfo> tables, IReadOnlyList<UniqueIndex> uniqueIndexes)
    {
        this.tables = tables;
        UniqueIndexes = uniqueIndexes;
    }

    /// <summary>Every table but the migrator's version table.</summary>
    public IEnumerable<TableInfo> Tables => tables.Values;

    /// <summary>Every unique index of the schema, by name.</summary>
    public IReadOnlyList<UniqueIndex> UniqueIndexes { get; }

    /// <summary>Every foreign key of the schema.</summary>
    public IEnumerable<ForeignKey> ForeignKeys => tables.Values.SelectMany(t => t.ForeignKeys);

    /// <summary>The table called <paramref name="name"/>.</summary>
    public TableInfo Table(string name) =>
        tables.TryGetValue(name, out var table) ? table : throw new ArgumentException($"The migrated schema has no table {name}.", nameof(name));

    /// <summary>A column.</summary>
    /// <param name="Name">Its name.</param>
    /// <param name="Type">Its type as <c>format_type</c> renders it, for casts (<c>character varying(64)</c>, <c>login_type[]</c>).</param>
    /// <param name="Kind">What kind of value it takes: <see cref="ArrayKind"/>, <see cref="EnumKind"/>, or the base type's name (a domain's base, without modifiers).</param>
    /// <param name="NotNull">Whether it is NOT NULL.</param>
    /// <param name="HasDefault">Whether it has a default (or is an identity).</param>
    /// <param name="Generated">Whether it is a generated column, which cannot be written.</param>
    /// <param name="Accepted">An enum's labels, or the values a one-column CHECK <c>= ANY (ARRAY[...])</c> accepts; else empty.</param>
    public sealed record Column(string Name, string Type, string Kind, bool NotNull, bool HasDefault, bool Generated, IReadOnlyList<string> Accepted);

    /// <summary>A table with its columns in order and its foreign keys.</summary>
    public sealed record TableInfo(string Name, IReadOnlyList<Column> Columns, IReadOnlyList<ForeignKey> ForeignKeys)
    {
        /// <summary>The column called <paramref name="name"/>.</summary>
        public Column Column(string name) => Columns.FirstOrDefault(c => c.Name == name)
            ?? throw new ArgumentException($"Table {Name} has no column {name}.", nameof(name));
    }

    /// <summary>A one-column foreign key (the schema has no other kind).</summary>
    /// <param name="OnDelete"><c>pg_constraint.confdeltype</c>: a no action, r restrict, c cascade, n set null, d set default.</param>
    public sealed record ForeignKey(string Name, string Table, string Column, string ReferencedTable, string ReferencedColumn, char OnDelete);

    /// <summary>A unique index: its key elements (a column name or an expression's text each) and its predicate, if partial.</summary>
    /// <param name="Order">Its place in creation (OID) order, in which PostgreSQL checks a table's unique indexes.</param>
    public sealed record UniqueIndex(string Name, string Table, IReadOnlyList<string> Keys, string? Predicate, long Order);

    /// <summary>Reads the catalog of <paramref name="connection"/>'s database.</summary>
    public static async Task<SchemaCatalog> ReadAsync(NpgsqlConnection connection)
    {
        var checks = new Dictionary<(string, string), List<string>>();
        await foreach (var row in QueryAsync(connection, """
            SELECT c.conrelid::regclass::text, a.attname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace AND cardinality(c.conkey) = 1
            """))
        {
            if (AcceptedValues().Match((string)row[2]!) is { Success: true } match)
            {
                checks[((string)row[0]!, (string)row[1]!)] = [.. Label().Matches(match.Groups[1].Value).Select(m => m.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal))];
            }
        }

        var keys = new Dictionary<string, List<ForeignKey>>(StringComparer.Ordinal);
        await foreach (var row in QueryAsync(connection, """
            SELECT c.conname, c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, r.attname, c.confdeltype::text
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            ORDER BY c.conname
            """))
        {
            var key = new ForeignKey((string)row[0]!, (string)row[1]!, (string)row[2]!, (string)row[3]!, (string)row[4]!, ((string)row[5]!)[0]);
            if (!keys.TryGetValue(key.Table, out var list)) keys[key.Table] = list = [];
            list.Add(key);
        }

        var columns = new Dictionary<string, List<Column>>(StringComparer.Ordinal);
        await foreach (var row in QueryAsync(connection, $"""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN t.typcategory = 'A' THEN '{ArrayKind}' WHEN t.typtype = 'e' THEN '{EnumKind}'
                        WHEN t.typtype = 'd' THEN format_type(t.typbasetype, NULL) ELSE format_type(t.oid, NULL) END,
                   a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
                   ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
            FROM pg_class c
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_type t ON t.oid = a.atttypid
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_version'
            ORDER BY c.relname, a.attnum
            """))
        {
            var table = (string)row[0]!;
            var name = (string)row[1]!;
            var accepted = checks.TryGetValue((table, name), out var values) ? values : [.. (string[])row[7]!];
            if (!columns.TryGetValue(table, out var list)) columns[table] = list = [];
            list.Add(new Column(name, (string)row[2]!, (string)row[3]!, (bool)row[4]!, (bool)row[5]!, (bool)row[6]!, accepted));
        }

        var indexes = new List<UniqueIndex>();
        await foreach (var row in QueryAsync(connection, """
            SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text,
                   ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
                   pg_get_expr(i.indpred, i.indrelid, true), i.indexrelid::bigint
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid
            WHERE i.indisunique AND c.relnamespace = 'public'::regnamespace AND c.relname <> 'schema_version'
            ORDER BY 1
            """))
        {
            indexes.Add(new UniqueIndex((string)row[0]!, (string)row[1]!, (string[])row[2]!, row[3] as string, (long)row[4]!));
        }

        return new SchemaCatalog(
            columns.ToDictionary(c => c.Key, c => new TableInfo(c.Key, c.Value, keys.GetValueOrDefault(c.Key) ?? []), StringComparer.Ordinal),
            indexes);
    }

    private static async IAsyncEnumerable<object?[]> QueryAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            yield return row;
        }
    }

    /// <summary><c>CHECK ((column = ANY (ARRAY['a'::text, 'b'::text])))</c>, as PostgreSQL renders an IN list.</summary>
    [GeneratedRegex(@"^CHECK \(\(\w+ = ANY \(ARRAY\[(.*)\]\)\)\)$")]
    private static partial Regex AcceptedValues();

    [GeneratedRegex(@"'((?:[^']|'')*)'::")]
    private static partial Regex Label();
}

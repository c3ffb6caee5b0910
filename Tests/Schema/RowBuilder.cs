using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The one way tests create rows: inserts valid rows into any table of a migrated database, reading
/// what "valid" means from its catalog. Every NOT NULL column without a default gets a fresh value
/// of its type, a column whose CHECK or enum lists the accepted values gets one of them, and each
/// NOT NULL foreign key gets a parent row of its own, built the same way (recursively). Callers
/// override any column with what their scenario is about; the rest is filler.
/// </summary>
/// <remarks>
/// Values travel as text in each type's input/output form (<c>'...'::type</c> in, <c>column::text</c>
/// out), so one code path serves enums, arrays, jsonb, domains such as <c>tagset</c>, <c>inet</c> and
/// <c>bytea</c> alike. Tables and types are schema-qualified, so an insert does the same whatever the
/// session's <c>search_path</c>. The builder runs on one connection, so inside a transaction opened on
/// <see cref="Connection"/>; the database's triggers run as for any other insert. Where parents must
/// agree with each other (one organization for a template, its workspaces and their builds), the
/// helpers of the workspace chain (<see cref="TemplateAsync"/> to <see cref="BuildAsync"/>) take them
/// from the row above.
/// </remarks>
internal sealed class RowBuilder : IAsyncDisposable
{
    /// <summary>An override meaning "leave the column out and let its default apply".</summary>
    public static readonly object Default = new();

    /// <summary>
    /// An override meaning "fill the column as if it were required": a fresh value of its type, or
    /// for a foreign key column a new parent row, although the column is nullable or has a default.
    /// </summary>
    public static readonly object Fresh = new();

    /// <summary>
    /// Columns that must be filled although they have a default, because that default is rejected:
    /// <c>users.username</c> defaults to <c>''</c>, which <c>users_username_min_length</c> refuses.
    /// </summary>
    private static readonly HashSet<(string Table, string Column)> DefaultRejected = [("users", "username")];

    private static readonly ConcurrentDictionary<string, Task<SchemaCatalog>> Catalogs = new(StringComparer.Ordinal);

    private readonly bool _ownsConnection;
    private readonly Dictionary<(string Table, string Column), int> _counters = [];

    private RowBuilder(NpgsqlConnection connection, SchemaCatalog catalog, bool ownsConnection)
    {
        Connection = connection;
        Catalog = catalog;
        _ownsConnection = ownsConnection;
    }

    /// <summary>The connection every insert and query of this builder runs on.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>What the catalog of the connection's database says about its tables, keys and unique indexes.</summary>
    public SchemaCatalog Catalog { get; }

    /// <summary>
    /// A builder writing through <paramref name="connection"/> (open), which stays the caller's to
    /// dispose. The catalog is read once per database name and shared: every copy of the migrated
    /// template has the same schema.
    /// </summary>
    public static async Task<RowBuilder> CreateAsync(NpgsqlConnection connection) =>
        new(connection, await CatalogAsync(connection), ownsConnection: false);

    /// <summary>A builder on a connection of its own to <paramref name="database"/>, closed when the builder is disposed.</summary>
    public static async Task<RowBuilder> OpenAsync(MigratedDatabase database)
    {
        var connection = await database.OpenAsync();
        try
        {
            return new RowBuilder(connection, await CatalogAsync(connection), ownsConnection: true);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _ownsConnection ? Connection.DisposeAsync() : ValueTask.CompletedTask;

    /// <summary>An override holding an SQL expression instead of a value, e.g. <c>new Sql("now()")</c>.</summary>
    public sealed record Sql(string Expression);

    /// <summary>
    /// Inserts one row into <paramref name="table"/> and returns it as stored (after defaults and
    /// BEFORE triggers). Each value is text in the column type's input form, a <see cref="Guid"/>,
    /// <see cref="bool"/>, <see cref="int"/> or <see cref="long"/>, null for NULL, an <see cref="Sql"/>
    /// expression, <see cref="Default"/> or <see cref="Fresh"/>; an overridden foreign key column gets no
    /// parent row.
    /// </summary>
    public Task<Row> InsertAsync(string table, params (string Column, object? Value)[] values) =>
        InsertAsync(table, values.ToDictionary(v => v.Column, v => v.Value, StringComparer.Ordinal));

    /// <summary>Inserts one row like <see cref="InsertAsync(string, ValueTuple{string, object}[])"/>, with the overrides by column.</summary>
    public async Task<Row> InsertAsync(string table, IReadOnlyDictionary<string, object?> overrides)
    {
        var info = Catalog.Table(table);
        foreach (var column in overrides.Keys)
        {
            if (!info.Columns.Any(c => c.Name == column)) throw new ArgumentException($"Table {table} has no column {column}; fix the override.", nameof(overrides));
        }

        var columns = new List<string>();
        var values = new List<string>();
        foreach (var column in info.Columns)
        {
            var overridden = overrides.TryGetValue(column.Name, out var given);
            var fresh = overridden && ReferenceEquals(given, Fresh);
            string literal;
            if (overridden && !fresh)
            {
                if (ReferenceEquals(given, Default)) continue;
                literal = given switch
                {
                    null => "NULL",
                    Sql expression => expression.Expression,
                    string text => Literal(text, column),
                    Guid id => Literal(id.ToString(), column),
                    bool flag => Literal(flag ? "true" : "false", column),
                    int or long => Literal(Convert.ToString(given, CultureInfo.InvariantCulture), column),
                    _ => throw new ArgumentException($"The override of {table}.{column.Name} is a {given.GetType().Name}; give text, a Guid, bool, int, long, null, Sql, Default or Fresh.", nameof(overrides)),
                };
            }
            else if (column.Generated)
            {
                continue;
            }
            else if (info.ForeignKeys.FirstOrDefault(k => k.Column == column.Name) is { } key && (column.NotNull || fresh))
            {
                var parent = await InsertAsync(key.ReferencedTable, new Dictionary<string, object?> { [key.ReferencedColumn] = Fresh });
                literal = Literal(parent[key.ReferencedColumn], column);
            }
            else if ((column.NotNull && (!column.HasDefault || DefaultRejected.Contains((table, column.Name)))) || fresh)
            {
                literal = Literal(NewValue(table, column), column);
            }
            else
            {
                continue;
            }

            columns.Add(Quote(column.Name));
            values.Add(literal);
        }

        var returning = string.Join(", ", info.Columns.Select(c => $"{Quote(c.Name)}::text"));
        var sql = columns.Count == 0
            ? $"INSERT INTO {Qualified(table)} DEFAULT VALUES RETURNING {returning}"
            : $"INSERT INTO {Qualified(table)} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", values)}) RETURNING {returning}";
        await using var command = new NpgsqlCommand(sql, Connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        await reader.ReadAsync(TestContext.Current.CancellationToken);
        var row = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < info.Columns.Count; i++)
        {
            row[info.Columns[i].Name] = reader.IsDBNull(i) ? null : reader.GetString(i);
        }

        return new Row(table, row);
    }

    /// <summary>Inserts one row like <see cref="InsertAsync(string, ValueTuple{string, object}[])"/> and returns its uuid <c>id</c>.</summary>
    public async Task<Guid> InsertIdAsync(string table, params (string Column, object? Value)[] values) =>
        (await InsertAsync(table, values)).Id;

    // The workspace chain: organization → template → template version → workspace → build (and its
    // job) → resource → agent. Left to itself the builder would give each foreign key a parent of its
    // own (a workspace in one organization on a template of another, a build of a version no template
    // has); these helpers take the parents from the row above instead, so that every row of a scenario
    // agrees, as coderd's rows do. Resources, agents and apps need no helper: their one parent is an
    // override (("job_id", job), ("resource_id", resource), ("agent_id", agent)).

    /// <summary>
    /// Inserts a template and its active version: the version in the template's organization,
    /// created by the template's creator, with a <c>template_version_import</c> job of its own.
    /// <paramref name="values"/> override the template's columns; pass <c>organization_id</c> and
    /// <c>created_by</c> to place it, or the builder makes a new organization and user for it.
    /// </summary>
    public async Task<TemplateIds> TemplateAsync(params (string Column, object? Value)[] values)
    {
        var version = Guid.NewGuid();
        var template = await InsertAsync("templates", With(values, ("active_version_id", version)));
        var (organization, creator) = (template.Uuid("organization_id"), template.Uuid("created_by"));
        await VersionAsync(organization, template.Id, creator, ("id", version));
        return new TemplateIds(organization, creator, template.Id, version);
    }

    /// <summary>
    /// Inserts a version of <paramref name="template"/> (or of no template) in
    /// <paramref name="organization"/>, created by <paramref name="createdBy"/>, with a
    /// <c>template_version_import</c> job of its own initiated by the same user.
    /// </summary>
    public async Task<Guid> VersionAsync(Guid organization, Guid? template, Guid createdBy, params (string Column, object? Value)[] values)
    {
        var job = await JobAsync(organization, createdBy, "template_version_import");
        return (await InsertAsync("template_versions", With(
            values, ("organization_id", organization), ("template_id", template), ("created_by", createdBy), ("job_id", job)))).Id;
    }

    /// <summary>Inserts a pending provisioner job (not started, completed or failed) of <paramref name="type"/> in <paramref name="organization"/>.</summary>
    public Task<Guid> JobAsync(Guid organization, Guid initiator, string type) =>
        InsertIdAsync("provisioner_jobs", ("organization_id", organization), ("initiator_id", initiator), ("type", type));

    /// <summary>Inserts a workspace of <paramref name="owner"/> on <paramref name="template"/>, in the template's organization.</summary>
    public async Task<Guid> WorkspaceAsync(Guid template, Guid owner, params (string Column, object? Value)[] values) =>
        (await InsertAsync("workspaces", With(
            values,
            ("organization_id", new Sql($"(SELECT organization_id FROM public.templates WHERE id = '{template}')")),
            ("template_id", template),
            ("owner_id", owner)))).Id;

    /// <summary>
    /// Inserts build <paramref name="number"/> of <paramref name="workspace"/> with a pending
    /// <c>workspace_build</c> job of its own in the workspace's organization. Unless
    /// <paramref name="values"/> say otherwise, the build starts the workspace at its template's active
    /// version, and the workspace's owner initiates it (and its job). Returns the build's and the job's ids.
    /// </summary>
    public async Task<(Guid Build, Guid Job)> BuildAsync(Guid workspace, int number, params (string Column, object? Value)[] values)
    {
        var build = With(
            values,
            ("workspace_id", workspace),
            ("build_number", number),
            ("transition", "start"),
            ("template_version_id", new Sql($"(SELECT t.active_version_id FROM public.workspaces AS w JOIN public.templates AS t ON t.id = w.template_id WHERE w.id = '{workspace}')")),
            ("initiator_id", new Sql($"(SELECT owner_id FROM public.workspaces WHERE id = '{workspace}')")));
        var job = await InsertIdAsync(
            "provisioner_jobs",
            ("organization_id", new Sql($"(SELECT organization_id FROM public.workspaces WHERE id = '{workspace}')")),
            ("initiator_id", build["initiator_id"]),
            ("type", "workspace_build"));
        build["job_id"] = job;
        return ((await InsertAsync("workspace_builds", build)).Id, job);
    }

    /// <summary>Runs one or more statements with named parameters on <see cref="Connection"/>; returns the rows affected.</summary>
    public async Task<int> ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Runs a query and returns the first column of its first row (<c>default</c> for SQL NULL or no row).</summary>
    public async Task<T?> ScalarAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    /// <summary>Runs a query and returns the first column of every row, in the query's order.</summary>
    public async Task<List<T?>> ColumnAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<T?>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.IsDBNull(0) ? default : reader.GetFieldValue<T>(0));
        }

        return values;
    }

    /// <summary>
    /// A value of <paramref name="column"/>'s type, in text form, that no earlier call gave for the
    /// same column: numbers count up from 1, timestamps from 2026-01-01 by the minute, text is
    /// <c>column-n</c>; an enum's labels or a CHECK'd set of values are walked through in order,
    /// booleans are false, arrays are empty and json an empty object.
    /// </summary>
    public string NewValue(string table, SchemaCatalog.Column column)
    {
        var n = _counters[(table, column.Name)] = _counters.GetValueOrDefault((table, column.Name)) + 1;
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

    /// <summary>A table of the <c>public</c> schema, qualified.</summary>
    public static string Qualified(string table) => $"public.{Quote(table)}";

    private static Task<SchemaCatalog> CatalogAsync(NpgsqlConnection connection) =>
        Catalogs.GetOrAdd(connection.Database, _ => SchemaCatalog.ReadAsync(connection));

    /// <summary><paramref name="defaults"/>, then <paramref name="values"/> over them, by column.</summary>
    private static Dictionary<string, object?> With((string Column, object? Value)[] values, params (string Column, object? Value)[] defaults)
    {
        var all = defaults.ToDictionary(d => d.Column, d => d.Value, StringComparer.Ordinal);
        foreach (var (column, value) in values) all[column] = value;
        return all;
    }

    private NpgsqlCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, Connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}

/// <summary>What <see cref="RowBuilder.TemplateAsync"/> inserted or placed the template in.</summary>
/// <param name="Organization">The template's organization.</param>
/// <param name="Creator">The user who created the template and its version.</param>
/// <param name="Template">The template.</param>
/// <param name="Version">Its active version.</param>
internal sealed record TemplateIds(Guid Organization, Guid Creator, Guid Template, Guid Version);

/// <summary>A row as the database stored it: every column's value in its type's text form, NULL as null.</summary>
internal sealed class Row(string table, IReadOnlyDictionary<string, string?> values)
{
    /// <summary>The table the row is in.</summary>
    public string Table { get; } = table;

    /// <summary>All columns of the row.</summary>
    public IReadOnlyDictionary<string, string?> Values { get; } = values;

    /// <summary>The row's uuid <c>id</c>.</summary>
    public Guid Id => Uuid("id");

    /// <summary>The value of <paramref name="column"/>.</summary>
    public string? this[string column] => Values.TryGetValue(column, out var value)
        ? value
        : throw new KeyNotFoundException($"Table {Table} has no column {column}.");

    /// <summary>The value of the uuid column <paramref name="column"/>, which must not be NULL.</summary>
    public Guid Uuid(string column) =>
        Guid.Parse(this[column] ?? throw new InvalidOperationException($"{Table}.{column} is NULL in this row; read it with the indexer."));

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

    private readonly Dictionary<string, TableInfo> _tables;

    private SchemaCatalog(Dictionary<string, TableInfo> tables, IReadOnlyList<UniqueIndex> uniqueIndexes)
    {
        _tables = tables;
        UniqueIndexes = uniqueIndexes;
    }

    /// <summary>Every table but the migrator's version table.</summary>
    public IEnumerable<TableInfo> Tables => _tables.Values;

    /// <summary>Every unique index of the schema, by name.</summary>
    public IReadOnlyList<UniqueIndex> UniqueIndexes { get; }

    /// <summary>Every foreign key of the schema.</summary>
    public IEnumerable<ForeignKey> ForeignKeys => _tables.Values.SelectMany(t => t.ForeignKeys);

    /// <summary>The table called <paramref name="name"/>.</summary>
    public TableInfo Table(string name) =>
        _tables.TryGetValue(name, out var table) ? table : throw new ArgumentException($"The migrated schema has no table {name}.", nameof(name));

    /// <summary>A column.</summary>
    /// <param name="Name">Its name.</param>
    /// <param name="Type">
    /// Its type for casts, whatever the session's <c>search_path</c>: a built-in type as <c>format_type</c>
    /// renders it (<c>character varying(64)</c>, <c>text[]</c>), the schema's own ones (which have no
    /// modifiers) qualified (<c>public.login_type[]</c>, <c>public.tagset</c>).
    /// </param>
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
    /// <param name="Name">The constraint's name.</param>
    /// <param name="Table">The referencing table.</param>
    /// <param name="Column">The referencing column.</param>
    /// <param name="ReferencedTable">The referenced table.</param>
    /// <param name="ReferencedColumn">The referenced column.</param>
    /// <param name="OnDelete"><c>pg_constraint.confdeltype</c>: a no action, r restrict, c cascade, n set null, d set default.</param>
    public sealed record ForeignKey(string Name, string Table, string Column, string ReferencedTable, string ReferencedColumn, char OnDelete);

    /// <summary>A unique index: its key elements (a column name or an expression's text each) and its predicate, if partial.</summary>
    /// <param name="Name">The index's name.</param>
    /// <param name="Table">Its table.</param>
    /// <param name="Keys">Its key elements, in order.</param>
    /// <param name="Predicate">The <c>WHERE</c> of a partial index; null otherwise.</param>
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
            SELECT c.relname, a.attname,
                   CASE WHEN t.typnamespace = 'pg_catalog'::regnamespace THEN format_type(a.atttypid, a.atttypmod)
                        ELSE quote_ident(n.nspname) || '.' || quote_ident(b.typname) || CASE WHEN t.typcategory = 'A' THEN '[]' ELSE '' END END,
                   CASE WHEN t.typcategory = 'A' THEN '{ArrayKind}' WHEN t.typtype = 'e' THEN '{EnumKind}'
                        WHEN t.typtype = 'd' THEN format_type(t.typbasetype, NULL) ELSE format_type(t.oid, NULL) END,
                   a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
                   ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
            FROM pg_class c
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_type t ON t.oid = a.atttypid
            JOIN pg_type b ON b.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
            JOIN pg_namespace n ON n.oid = b.typnamespace
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

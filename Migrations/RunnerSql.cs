using System.Globalization;
using System.Text;

namespace Coderd.Database.Migrations;

/// <summary>
/// The SQL the runner itself sends. Every statement runs in a transaction whose <c>search_path</c>
/// is pinned to <see cref="SearchPath"/> (<c>SET LOCAL</c>, never a session setting, which a
/// transaction pooler would leak to other clients), and names what it touches schema-qualified
/// anyway: no schema other than <c>pg_catalog</c> and <c>public</c> is ever consulted, whoever
/// can create one named after the migrator's role, and whatever the connection's <c>options</c> say.
/// </summary>
internal static class RunnerSql
{
    /// <summary>pg_catalog first, so a built-in is never shadowed by a look-alike of the same signature.</summary>
    public const string SearchPath = "pg_catalog, " + SchemaMigrator.Schema;

    /// <summary>Pins the path in an explicit transaction (BEGIN ... COMMIT), as the script shows it.</summary>
    public const string PinSearchPath = "SET LOCAL search_path = " + SearchPath;

    /// <summary>
    /// Pins the path in the implicit transaction of a batch: one Sync, one transaction, on one
    /// backend even behind a transaction pooler. <c>SET LOCAL</c> would warn there.
    /// </summary>
    public const string PinSearchPathInBatch = "SELECT pg_catalog.set_config('search_path', '" + SearchPath + "', true)";

    /// <summary>
    /// Lets the server notice within a second that the migrator's connection closed, and abort the
    /// statement and its transaction instead of running a migration to its end for nobody. Local to
    /// the transaction (PostgreSQL 14 and later have it).
    /// </summary>
    public const string CheckClientConnection = "SET LOCAL client_connection_check_interval = '1s'";

    public const string Begin = "BEGIN";

    public const string Commit = "COMMIT";

    public const string Rollback = "ROLLBACK";

    public const string QualifiedVersionTable = SchemaMigrator.Schema + "." + SchemaMigrator.VersionTable;

    public const string CreateVersionTable =
        $"CREATE TABLE IF NOT EXISTS {QualifiedVersionTable} (version bigint NOT NULL PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

    /// <summary>The columns of the runner's version table, as <c>format_type</c> names their types.</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> VersionColumns =
        [("version", "bigint"), ("description", "text"), ("applied_at", "timestamp with time zone")];

    /// <summary>The server's version, as a number and as text, and whether it is a standby.</summary>
    public const string Server =
        "SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4, pg_catalog.current_setting('server_version'), pg_catalog.pg_is_in_recovery()";

    /// <summary>
    /// The version table's kind and columns in order: no row when there is no such table, one row
    /// with null columns for a relation without any.
    /// </summary>
    public const string VersionTableShape = $"""
        SELECT c.relkind::pg_catalog.text, a.attname::pg_catalog.text, pg_catalog.format_type(a.atttypid, a.atttypmod)
        FROM pg_catalog.pg_class c
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.oid = pg_catalog.to_regclass('{QualifiedVersionTable}')
        ORDER BY a.attnum
        """;

    /// <summary>
    /// Who besides the schema's owner and the migrating role may create objects in the target
    /// schema: one row per grantee of CREATE in its ACL, <c>PUBLIC</c> for grantee 0, else the
    /// role's name quoted as SQL needs it; superusers are left out (they need no grant). A null ACL
    /// is the default, which grants only the owner: no rows.
    /// </summary>
    public const string SchemaCreators = $"""
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname::pg_catalog.text) END, a.grantee <> 0
        FROM pg_catalog.pg_namespace n
        CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
        LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
        WHERE n.nspname = '{SchemaMigrator.Schema}' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner
          AND (a.grantee = 0 OR (r.rolname <> CURRENT_USER AND NOT r.rolsuper))
        ORDER BY 2, 1
        """;

    public const string ReadHistory = $"SELECT version, description, applied_at FROM {QualifiedVersionTable}";

    public const string ReadVersions = $"SELECT version FROM {QualifiedVersionTable}";

    /// <summary>The migrator's backend (asked, not taken from the protocol: a pooler makes that up) and the lock, if free.</summary>
    public static readonly string TryLock = string.Create(CultureInfo.InvariantCulture,
        $"SELECT pg_catalog.pg_backend_pid(), pg_catalog.pg_try_advisory_xact_lock({SchemaMigrator.LockKey})");

    /// <summary>What the probe for a pooler's queue asks: anything a server answers at once.</summary>
    public const string Probe = "SELECT 1";

    /// <summary>The migrator's backend, asked for the same reason as in <see cref="TryLock"/>.</summary>
    public const string BackendPid = "SELECT pg_catalog.pg_backend_pid()";

    /// <summary>
    /// The SQLSTATE <see cref="Guard"/> raises when the migration cannot go ahead in this
    /// transaction: not a PostgreSQL code (class <c>CD</c> is unassigned), so nothing else raises it.
    /// </summary>
    public const string NotNowSqlState = "CDB01";

    /// <summary>
    /// Takes the migration lock if it is free and checks, under it, that the applied versions are
    /// exactly <paramref name="expected"/> (not checked when null: the version table may not
    /// exist yet); otherwise raises <see cref="NotNowSqlState"/>, which aborts the transaction
    /// before any statement of the migration runs. What lets a migration's whole transaction go
    /// in one round trip: the decision the runner would take after reading the versions is taken
    /// by the server, and the rare other case (lock busy, history moved) falls back to reading them.
    /// </summary>
    /// <remarks>PL/pgSQL because SQL cannot raise; the schema's own functions need it anyway.</remarks>
    public static string Guard(IEnumerable<long>? expected)
    {
        var sql = new StringBuilder()
            .Append("DO $guard$\nBEGIN\n")
            .Append(CultureInfo.InvariantCulture, $"  IF NOT pg_catalog.pg_try_advisory_xact_lock({SchemaMigrator.LockKey}) THEN\n")
            .Append(CultureInfo.InvariantCulture, $"    RAISE EXCEPTION USING ERRCODE = '{NotNowSqlState}', MESSAGE = 'another migrator holds the migration lock';\n")
            .Append("  END IF;\n");
        if (expected is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $"  IF ARRAY(SELECT v.version FROM {QualifiedVersionTable} v ORDER BY v.version) IS DISTINCT FROM ")
                .Append("'{").AppendJoin(',', expected.Order().Select(v => v.ToString(CultureInfo.InvariantCulture))).Append("}'::pg_catalog.int8[] THEN\n")
                .Append(CultureInfo.InvariantCulture, $"    RAISE EXCEPTION USING ERRCODE = '{NotNowSqlState}', MESSAGE = 'the applied versions changed since this migrator read them';\n")
                .Append("  END IF;\n");
        }

        return sql.Append("END\n$guard$").ToString();
    }

    /// <summary>What the script takes instead: psql waits for it.</summary>
    public static readonly string Lock = string.Create(CultureInfo.InvariantCulture,
        $"SELECT pg_catalog.pg_advisory_xact_lock({SchemaMigrator.LockKey})");

    /// <summary>
    /// Whether the <c>pg_locks</c> row aliased <c>h</c> is the migration lock, granted, in this
    /// database: a bigint advisory key shows as its two 32-bit halves, <c>objsubid</c> 1.
    /// </summary>
    public static readonly string IsMigrationLock = string.Create(CultureInfo.InvariantCulture, $"""
        h.locktype = 'advisory' AND h.granted
          AND h.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
          AND h.classid = {SchemaMigrator.LockKey >> 32}::pg_catalog.oid AND h.objid = {SchemaMigrator.LockKey & 0xFFFFFFFF}::pg_catalog.oid
          AND h.objsubid = 1
        """);

    /// <summary>
    /// The prepared transactions (gid, when prepared) by the virtual transaction id their locks
    /// carry in <c>pg_locks</c>, where they have no pid: the one their lock on their own xid has.
    /// Joined, not correlated: a subquery over <c>pg_locks</c> per row costs a lock-table read each.
    /// </summary>
    public const string PreparedTransactions = """
        SELECT t.virtualtransaction, p.gid, p.prepared
        FROM pg_catalog.pg_locks t JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = t.transactionid
        WHERE t.pid IS NULL AND t.locktype = 'transactionid'
        """;

    /// <summary>
    /// Who holds the migration lock, whether in a session or a transaction. The activity columns
    /// are null for another role's session unless the migrator may read all statistics; the pid
    /// is null for a prepared transaction, named by its gid instead.
    /// </summary>
    public static readonly string LockHolder = $"""
        SELECT h.pid, a.application_name, a.state, extract(epoch FROM pg_catalog.now() - a.backend_start)::pg_catalog.float8,
          p.gid, extract(epoch FROM pg_catalog.now() - p.prepared)::pg_catalog.float8
        FROM pg_catalog.pg_locks h
        LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = h.pid
        LEFT JOIN ({PreparedTransactions}) p ON h.pid IS NULL AND p.virtualtransaction = h.virtualtransaction
        WHERE {IsMigrationLock}
        ORDER BY h.pid NULLS LAST
        LIMIT 1
        """;
}

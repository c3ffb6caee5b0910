using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.Bench;

/// <summary>
/// A real CHECK violation to classify: from the server named by <c>TEST_DATABASE_URL</c> when set,
/// else built with Npgsql's public constructor carrying the fields PostgreSQL 15 sends for it.
/// </summary>
internal static class ViolationSource
{
    public const string Variable = "TEST_DATABASE_URL";
    public const string Table = "mcp_server_configs";
    public const string Constraint = "mcp_server_configs_transport_check";

    public static string Describe() => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 }
        ? $"PostgresException: raised by the server at {Variable} (a {Constraint} violation on a temporary {Table})."
        : $"PostgresException: constructed with Npgsql's public constructor as PostgreSQL 15 sends it ({Variable} is not set).";

    public static PostgresException Get() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } connectionString
            ? FromServer(connectionString)
            : Constructed();

    /// <summary>
    /// A temporary table with the same name and constraint needs neither a migrated database nor
    /// rights beyond TEMP, and leaves nothing behind.
    /// </summary>
    private static PostgresException FromServer(string connectionString)
    {
        // Keyword form or postgres:// URL, as the tests accept it.
        using var connection = new NpgsqlConnection(ConnectionStrings.Parse(connectionString).ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            $"CREATE TEMP TABLE {Table} (transport text NOT NULL CONSTRAINT {Constraint} CHECK (transport IN ('streamable_http', 'sse')));" +
            $"INSERT INTO {Table} (transport) VALUES ('carrier-pigeon')",
            connection);
        try
        {
            command.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation)
        {
            return e;
        }

        throw new InvalidOperationException($"The server accepted a row that violates {Constraint}; check {Variable}.");
    }

    /// <remarks>
    /// Every field is a fresh string, as Npgsql decodes them off the wire: a literal here would be
    /// the very instance the generated lookups hold, and compare equal by reference alone.
    /// </remarks>
    private static PostgresException Constructed() => new(
        messageText: Fresh($"new row for relation \"{Table}\" violates check constraint \"{Constraint}\""),
        severity: Fresh("ERROR"),
        invariantSeverity: Fresh("ERROR"),
        sqlState: Fresh(PostgresErrorCodes.CheckViolation),
        detail: Fresh("Failing row contains (...)."),
        schemaName: Fresh("public"),
        tableName: Fresh(Table),
        constraintName: Fresh(Constraint),
        file: Fresh("execMain.c"),
        line: Fresh("2074"),
        routine: Fresh("ExecConstraints"));

    private static string Fresh(string value) => new(value.AsSpan());
}

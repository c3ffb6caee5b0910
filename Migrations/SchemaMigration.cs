using FluentMigrator;

namespace Coderd.Database.Migrations;

/// <summary>
/// Base of every migration: FluentMigrator's fluent API for tables, columns, keys and plain
/// indexes, plus the few PostgreSQL objects it cannot express (enum types, CHECK constraints,
/// expression and partial indexes), written as SQL with their exact names.
/// </summary>
/// <remarks>
/// Migrations never BEGIN or COMMIT: the runner wraps each one in a transaction of its own with
/// <c>lock_timeout</c> and <c>statement_timeout</c> set, and records its version in the same
/// transaction. They never query the database either: the runner renders them to SQL without a
/// connection, so that <c>script</c> prints exactly what <c>up</c> executes.
/// </remarks>
public abstract class SchemaMigration : Migration
{
    /// <summary>The empty value of a <c>'0001-01-01 00:00:00+00'</c> timestamp, used as "unset" by coderd.</summary>
    protected const string ZeroTime = "0001-01-01 00:00:00+00";

    /// <summary><c>now()</c> as a column default.</summary>
    protected static readonly RawSql Now = RawSql.Insert("now()");

    /// <summary><c>CURRENT_TIMESTAMP</c> as a column default.</summary>
    protected static readonly RawSql CurrentTimestamp = RawSql.Insert("CURRENT_TIMESTAMP");

    /// <summary><c>gen_random_uuid()</c> as a column default (built in since PostgreSQL 13).</summary>
    protected static readonly RawSql RandomUuid = RawSql.Insert("gen_random_uuid()");

    /// <summary>
    /// This migration's own <c>lock_timeout</c>, or null (the default) for
    /// <see cref="MigratorOptions.LockTimeout"/>. Override it when the migration knows better, e.g.
    /// a table that only a nightly job touches can afford a longer queue. At least 1 ms.
    /// </summary>
    protected internal virtual TimeSpan? LockTimeout => null;

    /// <summary>
    /// Whether a lock timeout is retried within <see cref="MigratorOptions.LockRetryBudget"/> (the
    /// default) or fails the migration at once, naming the blocking session. Override it with false
    /// when waiting cannot help, or a human should decide when to try again.
    /// </summary>
    protected internal virtual bool RetryOnLockTimeout => true;

    /// <summary>Creates an enum type; label order is significant and kept.</summary>
    protected void CreateEnum(string name, params string[] labels) =>
        Execute.Sql($"CREATE TYPE {name} AS ENUM ({string.Join(", ", labels.Select(l => $"'{l}'"))})");

    /// <summary>Drops an enum type created by <see cref="CreateEnum"/>.</summary>
    protected void DropEnum(string name) => Execute.Sql($"DROP TYPE {name}");

    /// <summary>Adds a CHECK to a table created in the same migration (it is empty, so validating is free).</summary>
    protected void AddCheck(string table, string name, string expression) =>
        Execute.Sql($"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expression})");

    /// <summary>
    /// Adds a CHECK to an existing, possibly large table without scanning it: NOT VALID takes its
    /// ACCESS EXCLUSIVE lock only for the catalog change. A later migration must validate it.
    /// </summary>
    protected void AddCheckNotValid(string table, string name, string expression) =>
        Execute.Sql($"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expression}) NOT VALID");

    /// <summary>Validates a NOT VALID constraint; takes SHARE UPDATE EXCLUSIVE, so reads and writes go on.</summary>
    protected void ValidateConstraint(string table, string name) =>
        Execute.Sql($"ALTER TABLE {table} VALIDATE CONSTRAINT {name}");

    /// <summary>
    /// Adds <c>&lt;table&gt;_&lt;column&gt;_fkey</c> with ON DELETE RESTRICT, which FluentMigrator cannot
    /// express: its <see cref="System.Data.Rule"/> has no RESTRICT.
    /// </summary>
    protected void AddRestrictForeignKey(string table, string column, string primaryTable) =>
        Execute.Sql($"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) REFERENCES {primaryTable}(id) ON DELETE RESTRICT");

    /// <summary>Drops a constraint by name.</summary>
    protected void DropConstraint(string table, string name) =>
        Execute.Sql($"ALTER TABLE {table} DROP CONSTRAINT {name}");

    /// <summary>Creates an index FluentMigrator cannot express: on expressions, or partial.</summary>
    protected void CreateIndex(string name, string table, string definition, bool unique = false, string? where = null) =>
        Execute.Sql($"CREATE {(unique ? "UNIQUE " : "")}INDEX {name} ON {table} USING btree {definition}{(where is null ? "" : $" WHERE {where}")}");
}

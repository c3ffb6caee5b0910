using FluentMigrator;

namespace Coderd.Database.Migrations;

/// <summary>
/// Base of every migration: FluentMigrator's fluent API for tables, columns, keys and plain
/// indexes, plus the PostgreSQL objects it cannot express (enum and composite types, domains,
/// sequences, CHECK constraints, ON DELETE RESTRICT, expression, partial and
/// non-btree indexes), written as SQL with their exact names.
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

    /// <summary><c>nextval('<paramref name="sequence"/>')</c> as a column default.</summary>
    protected static RawSql NextValue(string sequence) => RawSql.Insert($"nextval('{sequence}'::regclass)");

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
        Execute.Sql($"CREATE TYPE {Qualified(name)} AS ENUM ({string.Join(", ", labels.Select(l => $"'{l.Replace("'", "''", StringComparison.Ordinal)}'"))})");

    /// <summary>Creates a composite type from <c>"name type"</c> fields, in order.</summary>
    protected void CreateCompositeType(string name, params string[] fields) =>
        Execute.Sql($"CREATE TYPE {Qualified(name)} AS ({string.Join(", ", fields)})");

    /// <summary>Drops an enum or composite type.</summary>
    protected void DropType(string name) => Execute.Sql($"DROP TYPE {Qualified(name)}");

    /// <summary>Creates a domain over <paramref name="baseType"/> with no constraint of its own.</summary>
    protected void CreateDomain(string name, string baseType) => Execute.Sql($"CREATE DOMAIN {Qualified(name)} AS {baseType}");

    /// <summary>Drops a domain created by <see cref="CreateDomain"/>.</summary>
    protected void DropDomain(string name) => Execute.Sql($"DROP DOMAIN {Qualified(name)}");

    /// <summary>
    /// Creates a sequence of <paramref name="type"/> (<c>integer</c> or <c>bigint</c>) starting at 1,
    /// before the table whose default reads it; <see cref="OwnSequence"/> then ties it to its column,
    /// so dropping the table drops the sequence too.
    /// </summary>
    protected void CreateSequence(string name, string type) => Execute.Sql($"CREATE SEQUENCE {Qualified(name)} AS {type}");

    /// <summary>Makes <paramref name="table"/>.<paramref name="column"/> the owner of a sequence (as <c>serial</c> does).</summary>
    protected void OwnSequence(string name, string table, string column) =>
        Execute.Sql($"ALTER SEQUENCE {Qualified(name)} OWNED BY {Qualified(table)}.{column}");

    /// <summary>
    /// Comments a table (what a row is) and those of its columns whose name does not say enough.
    /// SQL rather than <c>WithDescription</c>: FluentMigrator's PostgreSQL generator drops table
    /// descriptions and prefixes column ones with <c>Description:</c>.
    /// </summary>
    protected void Describe(string table, string comment, params (string Column, string Comment)[] columns)
    {
        Execute.Sql($"COMMENT ON TABLE {table} IS {Literal(comment)}");
        foreach (var (column, text) in columns) CommentOnColumn(table, column, text);
    }

    /// <summary>Comments one column.</summary>
    protected void CommentOnColumn(string table, string column, string comment) =>
        Execute.Sql($"COMMENT ON COLUMN {table}.{column} IS {Literal(comment)}");

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
    /// Adds a foreign key to <paramref name="primaryTable"/><c>(id)</c> with ON DELETE RESTRICT, which
    /// FluentMigrator cannot express: its <see cref="System.Data.Rule"/> has no RESTRICT.
    /// </summary>
    protected void AddRestrictForeignKey(string name, string table, string column, string primaryTable) =>
        Execute.Sql($"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {primaryTable}(id) ON DELETE RESTRICT");

    /// <summary>
    /// Adds a primary key on <paramref name="columns"/> in the order given, through a unique index
    /// built first (the way squawk asks for it; on a new, empty table both steps are instant).
    /// </summary>
    protected void AddPrimaryKey(string name, string table, params string[] columns)
    {
        Execute.Sql($"CREATE UNIQUE INDEX {name} ON {table} USING btree ({string.Join(", ", columns)})");
        Execute.Sql($"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {name}");
    }

    /// <summary>Drops a constraint by name.</summary>
    protected void DropConstraint(string table, string name) =>
        Execute.Sql($"ALTER TABLE {table} DROP CONSTRAINT {name}");

    /// <summary>
    /// Creates an index FluentMigrator cannot express: on expressions, partial, with INCLUDE columns
    /// (part of <paramref name="definition"/>), or of another access method than btree.
    /// </summary>
    protected void CreateIndex(string name, string table, string definition, bool unique = false, string? where = null, string method = "btree") =>
        Execute.Sql($"CREATE {(unique ? "UNIQUE " : "")}INDEX {name} ON {table} USING {method} {definition}{(where is null ? "" : $" WHERE {where}")}");

    /// <summary>
    /// <paramref name="name"/> in the target schema. The runner pins <c>search_path</c> to
    /// <c>pg_catalog, public</c>, so an unqualified name is looked up in pg_catalog first and an
    /// object created without a schema would be created in pg_catalog: every CREATE names its schema.
    /// </summary>
    protected static string Qualified(string name) =>
        name.Contains('.', StringComparison.Ordinal) ? name : $"{SchemaMigrator.Schema}.{name}";

    private static string Literal(string text) => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";
}

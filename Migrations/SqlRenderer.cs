using System.Data;
using FluentMigrator;
using FluentMigrator.Expressions;
using FluentMigrator.Infrastructure;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Generators.Postgres;
using FluentMigrator.Runner.Processors.Postgres;
using FluentMigrator.Validation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coderd.Database.Migrations;

/// <summary>
/// Turns a FluentMigrator migration into the PostgreSQL statements it stands for, without a
/// connection: FluentMigrator's own expressions, conventions, validation and PostgreSQL 15
/// generator, with a processor that collects the SQL instead of executing it.
/// </summary>
/// <remarks>
/// Why not FluentMigrator's runner: it cannot take a lock before it creates its version table,
/// set <c>lock_timeout</c> inside each migration's transaction, batch a migration into one round
/// trip, be cancelled, or print the exact transactions it runs. Rendering first and executing
/// ourselves gives all of that, and makes <c>script</c> and <c>up</c> one code path.
/// </remarks>
internal static class SqlRenderer
{
    private static readonly PostgresGenerator Generator =
        new Postgres15_0Generator(new PostgresQuoter(new PostgresOptions { ForceQuote = false }));

    private static readonly MigrationValidator Validator = new(
        NullLogger<MigrationValidator>.Instance, new DefaultConventionSet(), new DefaultMigrationExpressionValidator(EmptyServices.Instance));

    public static IReadOnlyList<string> Render(IMigration migration, bool up)
    {
        var collector = new Collector();
        var context = new MigrationContext(collector, EmptyServices.Instance, connection: null);
        if (up) migration.GetUpExpressions(context);
        else migration.GetDownExpressions(context);

        // Applies FluentMigrator's conventions in place and throws on an invalid expression.
        Validator.ApplyConventionsToAndValidateExpressions(migration, context.Expressions);
        foreach (var expression in context.Expressions)
        {
            expression.ExecuteWith(collector);
        }

        return collector.Statements;
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();
        public object? GetService(Type serviceType) => null;
    }

    /// <summary>Collects the generator's SQL; refuses anything that would need a live database.</summary>
    private sealed class Collector : IMigrationProcessor
    {
        public List<string> Statements { get; } = [];

        private void Add(string sql)
        {
            sql = sql.Trim();
            if (sql.EndsWith(';')) sql = sql[..^1].TrimEnd();
            if (sql.Length > 0) Statements.Add(sql);
        }

        private static NotSupportedException Offline(string what) =>
            new($"Migrations are rendered without a connection, so they cannot {what}; write the SQL statically.");

        public string DatabaseType => "Postgres";
        public IList<string> DatabaseTypeAliases { get; } = ["PostgreSQL"];

        public void Execute(string sql) => Add(sql);
        public void Execute(string template, params object[] args) => Add(string.Format(template, args));

        public void Process(CreateSchemaExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteSchemaExpression expression) => Add(Generator.Generate(expression));
        public void Process(AlterTableExpression expression) => Add(Generator.Generate(expression));
        public void Process(AlterColumnExpression expression) => Add(Generator.Generate(expression));
        public void Process(CreateTableExpression expression) => Add(Generator.Generate(expression));
        public void Process(CreateColumnExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteTableExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteColumnExpression expression) => Add(Generator.Generate(expression));
        public void Process(CreateForeignKeyExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteForeignKeyExpression expression) => Add(Generator.Generate(expression));
        public void Process(CreateIndexExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteIndexExpression expression) => Add(Generator.Generate(expression));
        public void Process(RenameTableExpression expression) => Add(Generator.Generate(expression));
        public void Process(RenameColumnExpression expression) => Add(Generator.Generate(expression));
        public void Process(InsertDataExpression expression) => Add(Generator.Generate(expression));
        public void Process(AlterDefaultConstraintExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteDataExpression expression) => Add(Generator.Generate(expression));
        public void Process(UpdateDataExpression expression) => Add(Generator.Generate(expression));
        public void Process(AlterSchemaExpression expression) => Add(Generator.Generate(expression));
        public void Process(CreateSequenceExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteSequenceExpression expression) => Add(Generator.Generate(expression));
        public void Process(CreateConstraintExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteConstraintExpression expression) => Add(Generator.Generate(expression));
        public void Process(DeleteDefaultConstraintExpression expression) => Add(Generator.Generate(expression));
        public void Process(PerformDBOperationExpression expression) => throw Offline("run code against the connection");

        public DataSet ReadTableData(string schemaName, string tableName) => throw Offline("read data");
        public DataSet Read(string template, params object[] args) => throw Offline("read data");
        public bool Exists(string template, params object[] args) => throw Offline("query the database");
        public bool SchemaExists(string schemaName) => throw Offline("query the schema");
        public bool TableExists(string schemaName, string tableName) => throw Offline("query the schema");
        public bool ColumnExists(string schemaName, string tableName, string columnName) => throw Offline("query the schema");
        public bool ConstraintExists(string schemaName, string tableName, string constraintName) => throw Offline("query the schema");
        public bool IndexExists(string schemaName, string tableName, string indexName) => throw Offline("query the schema");
        public bool SequenceExists(string schemaName, string sequenceName) => throw Offline("query the schema");
        public bool DefaultValueExists(string schemaName, string tableName, string columnName, object defaultValue) => throw Offline("query the schema");

        // The runner owns transactions.
        public void BeginTransaction() { }
        public void CommitTransaction() { }
        public void RollbackTransaction() { }
        public void Dispose() { }
    }
}

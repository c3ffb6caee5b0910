using System.Globalization;
using FluentMigrator;
using Coderd.Database.Migrations;

namespace Coderd.Database.Tests.FailingMigrations;

/// <summary>
/// A migration after every real one that creates a table, optionally sleeps (so a test can kill
/// the migrator mid-migration), then fails: nothing of it may survive.
/// </summary>
[Migration(2099_01_01_0001, "Test only: create failing_probe, then fail")]
public sealed class M2099_01_01_0001_CreateThenFail : SchemaMigration
{
    /// <summary>Seconds to sleep inside the migration after creating the table; unset = none.</summary>
    public const string SleepVariable = "CODERD_DB_TEST_SLEEP_SECONDS";

    public const string Table = "failing_probe";

    public override void Up()
    {
        Create.Table(Table).WithColumn("id").AsInt32().NotNullable().PrimaryKey("failing_probe_pkey");
        if (Environment.GetEnvironmentVariable(SleepVariable) is { Length: > 0 } seconds)
        {
            Execute.Sql($"SELECT pg_sleep({double.Parse(seconds, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)})");
        }

        Execute.Sql("SELECT 1 / 0");
    }

    public override void Down() => Delete.Table(Table);
}

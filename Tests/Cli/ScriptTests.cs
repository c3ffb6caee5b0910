using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Npgsql;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

public sealed class ScriptTests(PostgresFixture fixture)
{
    [Fact]
    public async Task ScriptFromZeroAppliedWithPsqlGivesTheSchemaUpGives()
    {
        // Given the full script, made without a database (the unit tests check it starts none)
        var scripted = await CoderdDb.RunAsync("script", "--from", "0");
        Assert.True(scripted.ExitCode == 0, scripted.ToString());
        // Each migration's transaction takes the migration lock (the unit tests count the transactions).
        Assert.Equal(MigrationInfo.All.Count + 1, scripted.Stdout.Split('\n').Count(line => line.StartsWith("SELECT pg_catalog.pg_advisory_xact_lock(", StringComparison.Ordinal)));
        Assert.DoesNotContain("pg_advisory_lock(", scripted.Stdout, StringComparison.Ordinal);

        // When psql runs it on one empty database and up migrates another
        var viaPsql = await CliDatabases.CreateEmptyAsync(fixture);
        var viaUp = await CliDatabases.CreateEmptyAsync(fixture);
        var psql = await RunPsqlAsync(viaPsql, scripted.Stdout);
        var up = await CoderdDb.RunAsync("up", "--connection", viaUp);

        // Then both have the same schema and the same recorded versions
        Assert.True(psql.ExitCode == 0, psql.StandardError);
        Assert.True(up.ExitCode == 0, up.ToString());
        SchemaAssert.Same(await SchemaAssert.SnapshotAsync(viaUp), await SchemaAssert.SnapshotAsync(viaPsql));
        Assert.Equal(await CliDatabases.RecordedVersionsAsync(viaUp), await CliDatabases.RecordedVersionsAsync(viaPsql));
    }

    [Fact]
    public async Task ScriptWithoutFromCoversWhatTheDatabaseHasPendingAndChangesNothing()
    {
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);

        var run = await CoderdDb.RunAsync("script", "--connection", database, "--lock-timeout", "2.5", "--statement-timeout", "0");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"-- {AddMcpServerConfigs}:", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain($"-- {ValidateChatSpendLimits}:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("SET LOCAL lock_timeout = '2500ms';", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("SET LOCAL statement_timeout = '0s';", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }

    private static async Task<ProcessRunner.Result> RunPsqlAsync(string connectionString, string script)
    {
        // Any installed psql: the script is plain SQL, which a psql of another major applies as well
        // (this test runs Debian's psql 15 on servers 13 to 18), so it need not match the server's.
        var psql = PostgresBinaries.FindAnyVersion("psql")
            ?? throw new InvalidOperationException("No psql in /usr/lib/postgresql/*/bin or on PATH; install postgresql-client.");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, script, TestContext.Current.CancellationToken);
            return await ProcessRunner.RunAsync(
                psql,
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", builder.Host!, "-p", builder.Port.ToString(), "-U", builder.Username!, "-d", builder.Database!, "-f", file],
                new Dictionary<string, string?> { ["PGPASSWORD"] = builder.Password },
                cancellationToken: TestContext.Current.CancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

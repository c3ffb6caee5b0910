using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

public sealed class DownTests(PostgresFixture fixture)
{
    [Fact]
    public async Task DownRollsBackToTheVersionPrintingWhatItDrops()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);

        var one = await CoderdDb.RunAsync("down", "--to", ValidateChatSpendLimits.ToString(), "--connection", database);

        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Contains("DROP TABLE public.mcp_server_configs;", one.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Rolled back {AddMcpServerConfigs} ", one.Stdout, StringComparison.Ordinal);
        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.Equal(CliDatabases.VersionsUpTo(ValidateChatSpendLimits), (await CliDatabases.RecordedVersionsAsync(database)).Keys.Order());

        var all = await CoderdDb.RunAsync("down", "--to", "0", "--connection", database);

        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Empty(await CliDatabases.RecordedVersionsAsync(database));
        Assert.Equal(0L, await CliDatabases.ScalarAsync<long>(database,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname <> 'schema_version' AND relname NOT LIKE 'schema_version%'"));
    }
}

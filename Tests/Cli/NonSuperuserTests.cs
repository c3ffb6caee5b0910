using Npgsql;

namespace Coderd.Database.Tests.Cli;

public sealed class NonSuperuserTests(PostgresFixture fixture)
{
    [Fact]
    public async Task RoleThatOwnsTheDatabaseMigratesIt()
    {
        // Given a login role that is no superuser and owns its database, as in production
        await using var database = await RoleDatabase.CreateAsync(fixture, "coderd_owner");
        var owned = new NpgsqlConnectionStringBuilder(database.ConnectionString);

        // When it migrates, given as a URL as deployment configs usually do
        var url = $"postgres://{database.Owner}:{owned.Password}@{owned.Host}:{owned.Port}/{database.Name}";
        var run = await CoderdDb.RunAsync("up", "--connection", url);

        // Then every migration is applied, and its objects belong to the role
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(owned.Password!, run.Output, StringComparison.Ordinal);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database.ConnectionString)).Keys.Order());
        Assert.Equal(database.Owner, await CliDatabases.ScalarAsync<string>(database.ConnectionString,
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'mcp_server_configs'"));
    }
}

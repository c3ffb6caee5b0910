using Npgsql;

namespace Coderd.Database.Tests.Cli;

public sealed class NonSuperuserTests(PostgresFixture fixture)
{
    [Fact]
    public async Task RoleThatOwnsTheDatabaseMigratesIt()
    {
        // Given a login role that is no superuser and owns its database, as in production
        var admin = await CliDatabases.CreateEmptyAsync(fixture);
        var suffix = Guid.NewGuid().ToString("N")[..10];
        var role = $"coderd_owner_{suffix}";
        var name = $"coderd_owned_{suffix}";
        var password = $"pw-{Guid.NewGuid():N}";
        await CliDatabases.ExecuteAsync(admin, $"CREATE ROLE {role} LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE");
        await CliDatabases.ExecuteAsync(admin, $"CREATE DATABASE {name} OWNER {role}");
        var owned = new NpgsqlConnectionStringBuilder(admin) { Database = name, Username = role, Password = password };
        try
        {
            // When it migrates, given as a URL as deployment configs usually do
            var url = $"postgres://{role}:{password}@{owned.Host}:{owned.Port}/{name}";
            var run = await CoderdDb.RunAsync("up", "--connection", url);

            // Then every migration is applied, and its objects belong to the role
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.DoesNotContain(password, run.Output, StringComparison.Ordinal);
            Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(owned.ConnectionString)).Keys.Order());
            Assert.Equal(role, await CliDatabases.ScalarAsync<string>(owned.ConnectionString,
                "SELECT tableowner::text FROM pg_tables WHERE tablename = 'mcp_server_configs'"));
        }
        finally
        {
            await CliDatabases.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            await CliDatabases.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {role}");
        }
    }
}

using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Server;

public sealed class ScratchServerTests(PostgresFixture postgres)
{
    [Fact]
    public async Task CreatedDatabaseIsConnectableAndDropRemovesIt()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var connectionString = await postgres.Server.CreateDatabaseAsync("scratch_test", cancellationToken: cancellation);
        var name = ConnectionStrings.Parse(connectionString).Database!;

        Assert.StartsWith("scratch_test_", name, StringComparison.Ordinal);
        Assert.Equal(name, await ScalarAsync(connectionString, "SELECT current_database()"));

        await postgres.Server.DropDatabaseAsync(name, cancellation);

        Assert.Equal(0L, await DatabasesNamedAsync(name));
    }

    [Fact]
    public async Task DropDisconnectsOpenSessions()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var connectionString = await postgres.Server.CreateDatabaseAsync("scratch_test", cancellationToken: cancellation);
        var name = ConnectionStrings.Parse(connectionString).Database!;
        await using var open = new NpgsqlConnection(connectionString);
        await open.OpenAsync(cancellation);

        await postgres.Server.DropDatabaseAsync(name, cancellation);

        Assert.Equal(0L, await DatabasesNamedAsync(name));
    }

    [Fact]
    public async Task TemplateDatabaseIsCopied()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var template = await postgres.Server.CreateDatabaseAsync("scratch_template", cancellationToken: cancellation);
        var templateName = ConnectionStrings.Parse(template).Database!;
        string? copy = null;
        try
        {
            await ScalarAsync(template, "CREATE TABLE copied (id int); INSERT INTO copied VALUES (7)");

            copy = await postgres.Server.CreateDatabaseAsync("scratch_copy", templateName, cancellation);

            Assert.Equal(7, await ScalarAsync(copy, "SELECT id FROM copied"));
        }
        finally
        {
            if (copy is not null)
            {
                await postgres.Server.DropDatabaseAsync(ConnectionStrings.Parse(copy).Database!, cancellation);
            }

            await postgres.Server.DropDatabaseAsync(templateName, cancellation);
        }
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("with-dash")]
    [InlineData("1digit")]
    [InlineData("")]
    [InlineData("a_prefix_that_is_much_too_long_for_a_database_name")]
    public async Task InvalidPrefixIsRejected(string prefix)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => postgres.Server.CreateDatabaseAsync(prefix, cancellationToken: TestContext.Current.CancellationToken));
    }

    // The only test that calls StartAsync after the fixture did, so setting the variable here
    // cannot change what another test gets.
    [Fact]
    public async Task TestDatabaseUrlIsUsedAsIsAndOnlyItsDatabasesAreDropped()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var admin = ConnectionStrings.Parse(postgres.Server.AdminConnectionString);
        var url = $"postgres://{Uri.EscapeDataString(admin.Username!)}:{Uri.EscapeDataString(admin.Password!)}@{admin.Host}:{admin.Port}/{admin.Database}";
        var previous = Environment.GetEnvironmentVariable(ScratchServer.UrlVariable);
        var log = new StringWriter();
        string name;
        Environment.SetEnvironmentVariable(ScratchServer.UrlVariable, url);
        try
        {
            await using var server = await ScratchServer.StartAsync(log, cancellation);
            Assert.True(server.IsGiven);
            name = ConnectionStrings.Parse(await server.CreateDatabaseAsync("url_test", cancellationToken: cancellation)).Database!;
            Assert.Equal(1L, await DatabasesNamedAsync(name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ScratchServer.UrlVariable, previous);
        }

        var line = log.ToString();
        Assert.Contains(ScratchServer.UrlVariable, line, StringComparison.Ordinal);
        Assert.DoesNotContain(admin.Password!, line, StringComparison.Ordinal);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(0L, await DatabasesNamedAsync(name));
        Assert.Equal(1L, await ScalarAsync(postgres.ConnectionString, "SELECT 1::bigint"));
    }

    private Task<long> DatabasesNamedAsync(string name) =>
        Sql.ScalarAsync<long>(postgres.Server.AdminConnectionString, $"SELECT count(*) FROM pg_database WHERE datname = '{name}'", TestContext.Current.CancellationToken);

    private static Task<object?> ScalarAsync(string connectionString, string sql) =>
        Sql.ScalarAsync<object>(connectionString, sql, TestContext.Current.CancellationToken);
}

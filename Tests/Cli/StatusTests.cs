using System.Globalization;
using System.Text.Json;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

public sealed class StatusTests(PostgresFixture fixture)
{
    [Fact]
    public async Task StatusJsonListsEveryMigrationAppliedOrPendingAndTheServerVersion()
    {
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);

        var run = await CoderdDb.RunAsync("status", "--json", "--connection", database);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var serverVersion = await CliDatabases.ScalarAsync<string>(database, "SHOW server_version");
        Assert.StartsWith(json.RootElement.GetProperty("serverVersion").GetString()!, serverVersion, StringComparison.Ordinal);
        var migrations = json.RootElement.GetProperty("migrations").EnumerateArray().ToList();
        Assert.Equal(CliDatabases.Versions, migrations.Select(m => m.GetProperty("version").GetInt64()));
        Assert.All(migrations, m => Assert.False(string.IsNullOrWhiteSpace(m.GetProperty("description").GetString())));
        var (applied, pending) = (migrations.Where(m => m.GetProperty("version").GetInt64() <= ValidateChatSpendLimits).ToList(),
            migrations.Where(m => m.GetProperty("version").GetInt64() > ValidateChatSpendLimits).ToList());
        Assert.NotEmpty(pending);
        Assert.All(applied, m =>
        {
            var appliedAt = m.GetProperty("appliedAt").GetString()!;
            Assert.EndsWith("Z", appliedAt, StringComparison.Ordinal);
            var parsed = DateTimeOffset.Parse(appliedAt, CultureInfo.InvariantCulture);
            Assert.True((DateTimeOffset.UtcNow - parsed).Duration() < TimeSpan.FromMinutes(10), appliedAt);
        });
        Assert.All(pending, m => Assert.Equal(JsonValueKind.Null, m.GetProperty("appliedAt").ValueKind));
    }

    [Fact]
    public async Task StatusIgnoresASearchPathSetThroughPgOptions()
    {
        // Given a migrated database, and the libpq variable that sets options for every session
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        var environment = new Dictionary<string, string?> { ["PGOPTIONS"] = "-c search_path=nosuch" };

        var run = await CoderdDb.RunAsync(["status", "--connection", database], environment);

        // Then status still reads public.schema_version: everything applied
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"{CliDatabases.Versions.Count} applied, 0 pending.", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusTextMarksPendingAndUnknownMigrations()
    {
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, $"DELETE FROM schema_version WHERE version = {AddMcpServerConfigs}");
        await CliDatabases.ExecuteAsync(database, "INSERT INTO schema_version (version, description) VALUES (209912310001, 'from a newer build')");

        var run = await CoderdDb.RunAsync("status", "--connection", database);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n');
        Assert.StartsWith("PostgreSQL ", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith($"{AddMcpServerConfigs}  pending", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("209912310001", StringComparison.Ordinal) && l.EndsWith("(not in this build)", StringComparison.Ordinal));
    }
}

using System.Text.Json;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// The warning that roles besides the owner and the migrator may create in <c>public</c> is one line
/// on stderr: it changes no exit code, and never mixes into stdout, where <c>status --json</c> writes data.
/// </summary>
public sealed class SchemaCreateWarningTests(PostgresFixture fixture)
{
    [Fact]
    public async Task CreateGrantedToPublicIsOneWarningLineOnStderrAndUpAndStatusExit0()
    {
        // Given a database whose public schema grants CREATE to PUBLIC, as PostgreSQL 13 and 14 do by default
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await CliDatabases.ExecuteAsync(database, "GRANT CREATE ON SCHEMA public TO PUBLIC");

        // When a deployment job migrates it, and status reads it as JSON
        var up = await CoderdDb.RunAsync("up", "--connection", database);
        var status = await CoderdDb.RunAsync("status", "--json", "--connection", database);

        // Then both exit 0 with one warning line on stderr holding the REVOKE, and stdout stays clean (status's is valid JSON)
        foreach (var run in new[] { up, status })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("`REVOKE CREATE ON SCHEMA public FROM PUBLIC;`", Assert.Single(run.Warnings), StringComparison.Ordinal);
            Assert.Empty(run.ErrorLines);
            Assert.DoesNotContain("Warning", run.Stdout, StringComparison.Ordinal);
        }

        using var json = JsonDocument.Parse(status.Stdout);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database)).Keys.Order());
    }
}

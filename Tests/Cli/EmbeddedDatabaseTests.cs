namespace Coderd.Database.Tests.Cli;

/// <summary>
/// <c>coderd-db up</c> with no connection at all: the embedded PostgreSQL, here in a temporary
/// folder (CODERD_DB_DATA / --data-dir) so the developer's default one is never touched.
/// </summary>
public sealed class EmbeddedDatabaseTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "coderd-db-embedded-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task UpWithoutConnectionMigratesTheEmbeddedDatabaseAndKeepsIt()
    {
        // When up runs twice with nothing but the folder: first from the environment, then as an option
        var first = await CoderdDb.RunAsync(["up"], new Dictionary<string, string?> { ["CODERD_DB_DATA"] = _folder });
        var second = await CoderdDb.RunAsync("up", "--data-dir", _folder);

        // Then the first migrated it, saying where, the second found it up to date, and the data stayed
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains(_folder, first.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Applied {CliDatabases.Versions.Count} migration(s)", first.Stdout, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("up to date", second.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_folder, "data", "PG_VERSION")));
        Assert.False(File.Exists(Path.Combine(_folder, "data", "postmaster.pid")), "The embedded server was left running.");
        var password = (await File.ReadAllTextAsync(Path.Combine(_folder, "password"), TestContext.Current.CancellationToken)).Trim();
        Assert.DoesNotContain(password, first.Output + second.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}

using Coderd.Database.Migrations;

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
        var second = await CoderdDb.RunAsync("up", "--data-dir", _folder, "--verbose");

        // Then the first migrated it, the second found it up to date, each saying once on stderr which database
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"Applied {MigrationInfo.All.Count} migration(s)", first.Stdout, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("up to date", second.Stdout, StringComparison.Ordinal);
        foreach (var run in new[] { first, second })
        {
            Assert.Empty(run.ErrorLines);
            var note = run.TargetNote;
            Assert.NotNull(note);
            Assert.StartsWith($"Using the embedded PostgreSQL 15 in {_folder} (127.0.0.1:", note, StringComparison.Ordinal);
            Assert.EndsWith("started for this run and stopped after it.", note, StringComparison.Ordinal);
            Assert.DoesNotContain("embedded", run.Stdout, StringComparison.Ordinal);
        }

        // And the data stayed, the server is stopped, and the generated password was never printed
        Assert.True(File.Exists(Path.Combine(_folder, "data", "PG_VERSION")));
        Assert.False(File.Exists(Path.Combine(_folder, "data", "postmaster.pid")), "The embedded server was left running.");
        var password = (await File.ReadAllTextAsync(Path.Combine(_folder, "password"), TestContext.Current.CancellationToken)).Trim();
        Assert.DoesNotContain(password, first.Output + second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThreeSimultaneousUpsOnTheEmbeddedDatabaseWaitForEachOtherAndAllSucceed()
    {
        // When three deployment jobs start at the same moment on one embedded database
        var processes = Enumerable.Range(0, 3).Select(_ => CoderdDb.Start(["up", "--data-dir", _folder])).ToList();
        var runs = await Task.WhenAll(processes.Select(p => p.WaitAsync(TimeSpan.FromSeconds(120))));
        foreach (var process in processes) await process.DisposeAsync();

        // Then all succeed: one migrates, the others wait for it and find the database up to date
        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.ToString()));
        Assert.Single(runs, run => run.Stdout.Contains($"Applied {MigrationInfo.All.Count} migration(s)", StringComparison.Ordinal));
        Assert.Equal(2, runs.Count(run => run.Stdout.Contains("up to date", StringComparison.Ordinal)));
        Assert.Equal(2, runs.Count(run => run.Stderr.Contains("Waiting for another process", StringComparison.Ordinal)));
        Assert.False(File.Exists(Path.Combine(_folder, "data", "postmaster.pid")), "The embedded server was left running.");
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}

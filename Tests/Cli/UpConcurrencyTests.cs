namespace Coderd.Database.Tests.Cli;

public sealed class UpConcurrencyTests(PostgresFixture fixture)
{
    [Fact]
    public async Task EightSimultaneousUpsAllSucceedAndApplyEachVersionOnce()
    {
        // Given an empty database, and another one a single process migrates
        var shared = await CliDatabases.CreateEmptyAsync(fixture);
        var single = await CliDatabases.CreateEmptyAsync(fixture);

        // When eight deployment jobs start at the same moment
        var processes = Enumerable.Range(0, 8).Select(_ => CoderdDb.Start(["up", "--connection", shared])).ToList();
        var runs = await Task.WhenAll(processes.Select(p => p.WaitAsync(TimeSpan.FromSeconds(90))));
        foreach (var process in processes) await process.DisposeAsync();
        var reference = await CoderdDb.RunAsync("up", "--connection", single);

        // Then all succeed, exactly one of them applied each migration, and the schema is the single run's
        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.ToString()));
        Assert.Equal(0, reference.ExitCode);
        var recorded = await CliDatabases.RecordedVersionsAsync(shared);
        Assert.Equal(CliDatabases.Versions, recorded.Keys.Order());
        Assert.All(recorded.Values, count => Assert.Equal(1, count));
        var appliedLines = runs.Sum(run => run.Stdout.Split('\n').Count(line => line.StartsWith("Applied 20", StringComparison.Ordinal)));
        Assert.Equal(CliDatabases.Versions.Count, appliedLines);
        Assert.Equal(7, runs.Count(run => run.Stdout.Contains("up to date", StringComparison.Ordinal)));
        SchemaAssert.Same(await SchemaAssert.SnapshotAsync(single), await SchemaAssert.SnapshotAsync(shared));
    }
}

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

        // Then all succeed, each migration was applied by exactly one of them (the lock is taken per
        // migration, so they may take turns), each job that applied none says so, and the schema is the single run's
        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.ToString()));
        Assert.Equal(0, reference.ExitCode);
        var recorded = await CliDatabases.RecordedVersionsAsync(shared);
        Assert.Equal(CliDatabases.Versions, recorded.Keys.Order());
        Assert.All(recorded.Values, count => Assert.Equal(1, count));
        // One line per migration, "Applied <12-digit version> ..."; a job's closing "Applied 23 migration(s) ..." is not one.
        var applied = runs.SelectMany(run => run.Stdout.Split('\n').Select(line => line.Split(' '))
            .Where(words => words is ["Applied", { Length: 12 } version, ..] && version.All(char.IsAsciiDigit))
            .Select(words => long.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture))).Order();
        Assert.Equal(CliDatabases.Versions, applied);
        Assert.All(runs.Where(run => !run.Stdout.Contains("Applied 20", StringComparison.Ordinal)),
            run => Assert.Contains("up to date", run.Stdout, StringComparison.Ordinal));
        SchemaAssert.Same(await SchemaAssert.SnapshotAsync(single), await SchemaAssert.SnapshotAsync(shared));
    }
}

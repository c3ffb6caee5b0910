using Coderd.Database.Tests.Schema;

namespace Coderd.Database.Tests.Cli;

/// <summary>Deployment jobs as real <c>coderd-db</c> processes, racing through a transaction-pooling PgBouncer.</summary>
public sealed class PoolerCliTests(PostgresFixture fixture)
{
    [Fact]
    public async Task SimultaneousUpsThroughATransactionPoolerAllSucceedAndApplyEachVersionOnce()
    {
        // Given an empty database behind a PgBouncer in transaction mode, with two server connections
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await using var bouncer = await PgBouncer.StartAsync(database, "transaction", poolSize: 2);

        // When four deployment jobs start at once through it
        var processes = Enumerable.Range(0, 4).Select(_ => CoderdDb.Start(["up", "--connection", bouncer.Route(database)])).ToList();
        var runs = await Task.WhenAll(processes.Select(p => p.WaitAsync(TimeSpan.FromSeconds(90))));
        foreach (var process in processes) await process.DisposeAsync();

        // Then all exit 0, each version was applied by exactly one job, and no lock or setting is left on any server connection
        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.ToString()));
        // One line per migration, "Applied <12-digit version> ..."; a job's closing "Applied 23 migration(s) ..." is not one.
        var applied = runs.SelectMany(run => run.Stdout.Split('\n').Select(line => line.Split(' '))
            .Where(words => words is ["Applied", { Length: 12 } version, ..] && version.All(char.IsAsciiDigit))).Count();
        Assert.Equal(CliDatabases.Versions.Count, applied);
        var recorded = await CliDatabases.RecordedVersionsAsync(database);
        Assert.Equal(CliDatabases.Versions, recorded.Keys.Order());
        Assert.All(recorded.Values, count => Assert.Equal(1, count));
        await PoolerTests.AssertNothingLeftBehindAsync(database, bouncer, 2);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Bench;

/// <summary>
/// The classic migration outage, reproduced: a report holds a transaction that has read
/// <c>chats</c>, two writers keep inserting and updating chats, and the MCP migration needs an
/// ACCESS EXCLUSIVE lock on chats. Measures, side by side in one run, the runner's lock strategy
/// and the one it replaced (3 s lock timeout, three retries after 0.5, 1 and 2 s, queueing again
/// each time): the longest writer stall, how long <c>up</c> took and how many attempts it made.
/// Then a report that outlasts the retry budget: the migration must fail naming it, with nothing applied.
/// </summary>
internal sealed class LockStallBenchmark(LocalCluster cluster, TextWriter output)
{
    /// <summary>The MCP migration, whose last statement alters chats, and the one before it.</summary>
    private static readonly long Mcp = BenchMigrations.AddMcpServerConfigs;
    private static readonly long BeforeMcp = BenchMigrations.ValidateChatSpendLimits;

    /// <summary>The retries of the runner this one replaced: three, after 0.5, 1 and 2 s.</summary>
    private static readonly TimeSpan[] OldRetryDelays = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private const int Runs = 3;
    private const int Writers = 2;
    private const int Chats = 10_000;
    private static readonly TimeSpan ReportHolds = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan ShortBudget = TimeSpan.FromSeconds(3);
    private const string GaveUp = "gave up after lock_timeout";

    /// <summary>
    /// What the runner did before, rebuilt on the public API: one attempt per call with a 3 s lock
    /// timeout, and the caller retrying after <see cref="OldRetryDelays"/>, queueing every time.
    /// </summary>
    private static readonly MigratorOptions Before = new()
    {
        ConnectionString = "",
        LockTimeout = TimeSpan.FromSeconds(3),
        LockRetryBudget = TimeSpan.Zero,
    };

    private static readonly MigratorOptions Now = new() { ConnectionString = "" };

    private int _databases;

    public static async Task<int> RunAsync(TextWriter output)
    {
        var total = Stopwatch.StartNew();
        output.WriteLine("Starting a throwaway PostgreSQL cluster ...");
        await using var throwaway = await ThrowawayCluster.StartAsync();
        return await new LockStallBenchmark(throwaway.Cluster, output).RunAsync(total);
    }

    private async Task<int> RunAsync(Stopwatch total)
    {
        var template = await CreateTemplateAsync();
        var results = new Dictionary<string, List<Outcome>> { ["before"] = [], ["now"] = [] };
        for (var run = 1; run <= Runs; run++)
        {
            foreach (var (name, options) in new[] { ("before", Before), ("now", Now) })
            {
                output.WriteLine($"Run {run}/{Runs}, {name}: report holds chats for {ReportHolds.TotalSeconds:0} s, {Writers} writers, up to {Mcp} ...");
                var outcome = await ScenarioAsync(template, options, reportHolds: ReportHolds);
                output.WriteLine($"  {outcome}");
                if (outcome.Error is not null) return Fail($"up failed although the report ended within the budget: {outcome.Error.Message}");
                results[name].Add(outcome);
            }
        }

        output.WriteLine($"Report outlasting a {ShortBudget.TotalSeconds:0} s retry budget, default options otherwise ...");
        var outlasted = await ScenarioAsync(template, Now with { LockRetryBudget = ShortBudget }, reportHolds: null);
        output.WriteLine($"  {outlasted}");
        if (outlasted.Error is not { Error: MigrationError.MigrationFailed } error) return Fail("up did not fail with MigrationFailed while the report outlasted the budget.");
        if (!error.Message.Contains($"blocked by pid {outlasted.ReportPid} ", StringComparison.Ordinal)) return Fail($"the error does not name the report's pid {outlasted.ReportPid}: {error.Message}");
        if (outlasted.McpApplied) return Fail("part of the MCP migration is there after it failed.");

        output.WriteLine();
        output.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, PostgreSQL {cluster.MajorVersion} (throwaway cluster, SCRAM, fsync off)");
        output.WriteLine($"{Chats:N0} chats; {Writers} writers inserting and updating chats; a report's transaction has read chats and stays open {ReportHolds.TotalSeconds:0} s; medians of {Runs} runs, alternating.");
        output.WriteLine("| runner | longest writer stall (ms) | up took (s) | attempts | exit |");
        output.WriteLine("|---|---:|---:|---:|---|");
        output.WriteLine(Row($"before: lock timeout {Interval(Before.LockTimeout)}, 3 retries after 0.5/1/2 s", results["before"]));
        output.WriteLine(Row($"now: lock timeout {Interval(Now.LockTimeout)}, waits for the blocker, budget {Now.LockRetryBudget.TotalSeconds:0} s", results["now"]));
        output.WriteLine(Row($"now, report outlasting a {ShortBudget.TotalSeconds:0} s budget", [outlasted]));
        output.WriteLine($"The failure read: {error.Message}");
        output.WriteLine($"Measured in {total.Elapsed.TotalSeconds:0} s.");
        return 0;

        int Fail(string why)
        {
            output.WriteLine($"lockstall: {why}");
            return 1;
        }
    }

    /// <summary>A database migrated to just before <see cref="Mcp"/>, with chats, that each scenario copies.</summary>
    private async Task<string> CreateTemplateAsync()
    {
        var template = await CreateDatabaseAsync(template: null);
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = template });
        await migrator.UpAsync(BeforeMcp);
        await Sql.ExecuteAsync(template, ChatsWorkload.SeedSql(Chats, Writers));
        await Sql.ExecuteAsync(template, "VACUUM ANALYZE chats");
        return template;
    }

    /// <summary>
    /// Writers start; a report reads chats and keeps its transaction open for
    /// <paramref name="reportHolds"/> (null: until <c>up</c> returns); <c>up</c> to <see cref="Mcp"/>
    /// runs with <paramref name="options"/>; the writers stop shortly after both are done.
    /// </summary>
    private async Task<Outcome> ScenarioAsync(string template, MigratorOptions options, TimeSpan? reportHolds)
    {
        var database = await CreateDatabaseAsync(template);
        var writers = Enumerable.Range(0, Writers).Select(w => Writer.Start(database, ChatsWorkload.WriterSql(w))).ToList();
        try
        {
            await Task.Delay(300);
            await using var report = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { ApplicationName = "monthly-report" }.ConnectionString);
            await report.OpenAsync();
            await Sql.ExecuteAsync(report, "BEGIN; SELECT count(*) FROM chats");
            var reportEnds = reportHolds is { } holds
                ? Task.Delay(holds).ContinueWith(_ => Sql.ExecuteAsync(report, "COMMIT")).Unwrap()
                : null;

            var log = new CountingLog();
            var migrator = new SchemaMigrator(options with { ConnectionString = database, Log = log });
            var watch = Stopwatch.StartNew();
            MigrationException? error = null;
            var oldRetries = ReferenceEquals(options, Before) ? OldRetryDelays : [];
            for (var retry = 0; ; retry++)
            {
                try
                {
                    await migrator.UpAsync(Mcp);
                    error = null;
                    break;
                }
                catch (MigrationException e)
                {
                    error = e;
                    if (retry >= oldRetries.Length || e.InnerException is not PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable }) break;
                    await Task.Delay(oldRetries[retry]);
                }
            }

            var took = watch.Elapsed;
            if (reportEnds is null) await Sql.ExecuteAsync(report, "COMMIT");
            else await reportEnds;
            await Task.Delay(300);
            var stalls = new List<double>();
            foreach (var writer in writers) stalls.Add(await writer.StopAsync());
            var attempts = log.Count(GaveUp) + (error is null ? 1 : 0);
            var applied = await Sql.ScalarAsync<bool>(database,
                $"SELECT EXISTS (SELECT FROM schema_version WHERE version = {Mcp}) OR to_regclass('mcp_server_configs') IS NOT NULL " +
                "OR EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'chats'::regclass AND attname = 'mcp_server_ids')");
            return new Outcome(stalls.Max(), took, attempts, error, report.ProcessID, applied);
        }
        finally
        {
            foreach (var writer in writers) await writer.DisposeAsync();
        }
    }

    private static string Row(string runner, List<Outcome> outcomes)
    {
        var exit = outcomes.All(o => o.Error is null) ? "0" : "1 (MigrationFailed)";
        return string.Create(CultureInfo.InvariantCulture,
            $"| {runner} | **{Median(outcomes.Select(o => o.WriterStallMs)):0}** (runs: {string.Join(" ", outcomes.Select(o => o.WriterStallMs.ToString("0", CultureInfo.InvariantCulture)))}) " +
            $"| {Median(outcomes.Select(o => o.Took.TotalSeconds)):0.0} | {string.Join(" ", outcomes.Select(o => o.Attempts))} | {exit} |");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Interval(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0} ms");

    private async Task<string> CreateDatabaseAsync(string? template)
    {
        var name = $"lockstall_{++_databases}";
        var templateName = template is null ? "" : $" TEMPLATE {new NpgsqlConnectionStringBuilder(template).Database}";
        await Sql.ExecuteAsync(cluster.ConnectionString, $"CREATE DATABASE {name}{templateName}");
        // Unpooled: an idle pooled session on the template would stop PostgreSQL from copying it.
        return new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = name, Pooling = false }.ConnectionString;
    }

    /// <summary>One scenario's figures.</summary>
    private sealed record Outcome(double WriterStallMs, TimeSpan Took, int Attempts, MigrationException? Error, int ReportPid, bool McpApplied)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"longest writer stall {WriterStallMs:0} ms, up took {Took.TotalSeconds:0.0} s, {Attempts} attempt(s), {(Error is null ? "applied" : $"failed ({Error.Error}), MCP migration applied: {McpApplied}")}");
    }

    /// <summary>The migrator's log, kept to count lines; written from the migrator's task only.</summary>
    private sealed class CountingLog : TextWriter
    {
        private readonly List<string> _lines = [];

        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            lock (_lines) _lines.Add(value ?? "");
        }

        public int Count(string marker)
        {
            lock (_lines) return _lines.Count(line => line.Contains(marker, StringComparison.Ordinal));
        }
    }
}

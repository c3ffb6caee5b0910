using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Bench;

/// <summary>
/// Times whole processes and single migrations against a throwaway local cluster, side by side
/// with a baseline measured in the same run, and prints medians and ratios. A timing harness,
/// not BenchmarkDotNet: the things measured are process start-ups and DDL, seconds long and
/// dominated by I/O, where BenchmarkDotNet's statistics buy nothing and its run time is minutes.
/// </summary>
internal sealed class MigrationBenchmarks(LocalCluster cluster, string cli, string? baseline, string psql, string dump, TextWriter output)
{
    private const int ProcessRuns = 11;
    private const int MigrationRuns = 7;
    // The migrations measured (see BenchMigrations).
    private static readonly long BeforeUsageLimits = BenchMigrations.CreateProvisionerJobStatsView;
    private static readonly long UsageLimits = BenchMigrations.AddChatUsageLimits;
    private static readonly long ValidateLimits = BenchMigrations.ValidateChatSpendLimits;
    private static readonly long Mcp = BenchMigrations.AddMcpServerConfigs;
    private static readonly TimeSpan LockTimeout = MigratorOptions.DefaultLockTimeout;

    // Proof that the published program did the whole job, not only that it exited 0.
    private static readonly string AllApplied = $"Applied {MigrationInfo.All.Count} migration(s)";

    private readonly List<(string Figure, string Value, string Target)> _rows = [];
    private int _databases;

    /// <summary>
    /// Publishes coderd-db natively (unless <paramref name="cli"/> names a published one to reuse),
    /// then measures it; with <paramref name="baseline"/>, another published coderd-db (e.g. of the
    /// previous commit) is timed alternately with it in the same runs.
    /// </summary>
    public static async Task<int> RunAsync(string repositoryRoot, TextWriter output, string? cli = null, string? baseline = null)
    {
        var total = Stopwatch.StartNew();
        string? published = null;
        if (cli is null)
        {
            published = Path.Combine(Path.GetTempPath(), $"coderd-db-bench-{Environment.ProcessId}");
            if (await PublishAsync(repositoryRoot, published, output) is { } failure)
            {
                output.WriteLine(failure);
                return 1;
            }

            cli = Path.Combine(published, "coderd-db");
        }

        try
        {
            output.WriteLine("Starting a throwaway PostgreSQL cluster ...");
            await using var throwaway = await ThrowawayCluster.StartAsync();
            var psql = PostgresBinaries.Find(throwaway.Cluster.MajorVersion).Psql;
            var bench = new MigrationBenchmarks(throwaway.Cluster, Path.GetFullPath(cli), baseline is null ? null : Path.GetFullPath(baseline), psql,
                Path.Combine(repositoryRoot, SchemaDump.FileName), output);
            await bench.EmptyToLatestAsync();
            await bench.UpToDateAsync();
            foreach (var chats in new[] { 10_000, 1_000_000 }) await bench.McpMigrationAsync(chats);
            bench.AddRatio("MCP migration, 1M / 10k chats", "mcp 1000000", "mcp 10000", "<= 1.5");
            foreach (var users in new[] { 10_000, 1_000_000 }) await bench.UsageLimitsAsync(users);
            bench.AddRatio("usage limits blocking step, 1M / 10k users", "limits 1000000", "limits 10000", "<= 1.5");
            bench.Print(total.Elapsed);
            return 0;
        }
        finally
        {
            if (published is not null) Directory.Delete(published, recursive: true);
        }
    }

    /// <summary>
    /// <c>dotnet publish</c> of tools/Cli as a native (AOT) program into <paramref name="folder"/>;
    /// returns what went wrong, or null. The native linker step needs <c>clang</c>: where only a
    /// versioned one (<c>clang-14</c>) is installed, it is passed as <c>CppCompilerAndLinker</c>.
    /// </summary>
    internal static async Task<string?> PublishAsync(string repositoryRoot, string folder, TextWriter output)
    {
        var arguments = new List<string>
        {
            "publish", Path.Combine(repositoryRoot, "tools", "Cli"), "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier,
            "-p:PublishAot=true", "-o", folder, "--nologo", "-v", "quiet",
        };
        var clang = FindClang();
        if (clang is null) return "Publishing coderd-db natively needs clang on PATH (clang or clang-<version>); install it, or pass --cli <published coderd-db>.";
        if (clang != "clang") arguments.Add($"-p:CppCompilerAndLinker={clang}");
        output.WriteLine($"Publishing coderd-db (Release, native AOT with {clang}, as a deployment image would; several minutes on a busy machine) ...");
        var publish = await ProcessRunner.RunAsync("dotnet", arguments, timeout: TimeSpan.FromMinutes(20));
        return publish.ExitCode == 0 ? null : $"dotnet publish of tools/Cli failed: {publish.StandardOutput}{publish.StandardError}";
    }

    /// <summary><c>clang</c> if it is on PATH, else the newest <c>clang-&lt;major&gt;</c> there, else null.</summary>
    private static string? FindClang()
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(Directory.Exists).ToList();
        if (folders.Any(f => File.Exists(Path.Combine(f, "clang")))) return "clang";
        return folders
            .SelectMany(f => Directory.EnumerateFiles(f, "clang-*"))
            .Select(Path.GetFileName)
            .Select(name => (Name: name!, Major: int.TryParse(name!["clang-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : -1))
            .Where(c => c.Major >= 0)
            .OrderByDescending(c => c.Major)
            .Select(c => c.Name)
            .FirstOrDefault();
    }

    private readonly Dictionary<string, double> _medians = [];

    private async Task EmptyToLatestAsync()
    {
        output.WriteLine($"Empty -> latest: coderd-db up{(baseline is null ? "" : " (and the baseline's)")} vs psql -1 -f schema-dump.sql, {ProcessRuns} runs each, alternating ...");
        var ours = new List<double>();
        var theirs = new List<double>();
        var floor = new List<double>();
        var sessions = new List<long>();
        for (var i = 0; i < ProcessRuns; i++)
        {
            var a = await CreateDatabaseAsync();
            ours.Add(await TimeProcessAsync(cli, ["up"], a, expectOutput: AllApplied));
            sessions.Add(await SessionsAsync(a));
            if (baseline is not null) theirs.Add(await TimeProcessAsync(baseline, ["up"], await CreateDatabaseAsync(), expectOutput: AllApplied));
            var b = await CreateDatabaseAsync();
            floor.Add(await TimeProcessAsync(psql, ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", dump], b, expectOutput: null));
        }

        Record("coderd-db up, empty -> latest", ours, "");
        if (baseline is not null) Record("baseline coderd-db up, empty -> latest", theirs, "");
        Record("psql -1 -f schema-dump.sql (floor)", floor, "");
        _rows.Add(("  ratio up / psql -f", RatioOfMedians(ours, floor), "<= 1.2"));
        if (baseline is not null) _rows.Add(("  ratio baseline up / psql -f", RatioOfMedians(theirs, floor), "<= 1.2"));
        _rows.Add(("  sessions opened by one up", string.Join(" ", sessions.Distinct()), ""));
    }

    private async Task UpToDateAsync()
    {
        output.WriteLine($"Up to date: coderd-db up{(baseline is null ? "" : " (and the baseline's)")} vs psql -c 'select 1', {ProcessRuns} runs each, alternating ...");
        var database = await CreateDatabaseAsync();
        await new SchemaMigrator(new MigratorOptions { ConnectionString = database }).UpAsync();
        var ours = new List<double>();
        var theirs = new List<double>();
        var floor = new List<double>();
        for (var i = 0; i < ProcessRuns; i++)
        {
            ours.Add(await TimeProcessAsync(cli, ["up"], database, expectOutput: "up to date"));
            if (baseline is not null) theirs.Add(await TimeProcessAsync(baseline, ["up"], database, expectOutput: "up to date"));
            floor.Add(await TimeProcessAsync(psql, ["-X", "-q", "-c", "select 1"], database, expectOutput: null));
        }

        Record("coderd-db up, already up to date", ours, "");
        if (baseline is not null) Record("baseline coderd-db up, already up to date", theirs, "");
        Record("psql -c 'select 1' (floor)", floor, "");
        _rows.Add(("  ratio up / select 1", RatioOfMedians(ours, floor), "<= 3"));
        if (baseline is not null) _rows.Add(("  ratio baseline up / select 1", RatioOfMedians(theirs, floor), "<= 3"));
    }

    /// <summary>
    /// How many sessions have ended in <paramref name="connectionString"/>'s database
    /// (<c>pg_stat_database.sessions</c>, PostgreSQL 14+; -1 before): after one <c>up</c> in a new
    /// database, the connections it opened. Asked from the cluster's maintenance database, so the
    /// question does not count itself.
    /// </summary>
    private async Task<long> SessionsAsync(string connectionString)
    {
        if (cluster.MajorVersion < 14) return -1;
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        // A backend reports its session to the statistics as it exits, just after the client has gone.
        await Task.Delay(300);
        return await Sql.ScalarAsync<long>(cluster.ConnectionString, $"SELECT sessions FROM pg_stat_database WHERE datname = '{name}'");
    }

    /// <summary>The MCP migration on a chats table of <paramref name="chats"/> rows, with a writer on chats.</summary>
    private async Task McpMigrationAsync(int chats)
    {
        output.WriteLine($"MCP migration with {chats:N0} chats, {MigrationRuns} runs, a writer inserting and updating chats ...");
        var database = await CreateDatabaseAsync();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database });
        await migrator.UpAsync(ValidateLimits);
        var seed = Stopwatch.StartNew();
        await Sql.ExecuteAsync(database, ChatsWorkload.SeedSql(chats, writers: 1));
        await Sql.ExecuteAsync(database, "VACUUM ANALYZE chats; CHECKPOINT");
        output.WriteLine($"  seeded in {seed.Elapsed.TotalSeconds:0.0} s");

        var times = new List<double>();
        var stall = 0.0;
        for (var i = 0; i < MigrationRuns; i++)
        {
            await using (var writer = Writer.Start(database, ChatsWorkload.WriterSql(0)))
            {
                await Task.Delay(200);
                var applied = await migrator.UpAsync(Mcp);
                times.Add(applied.Single().Duration.TotalMilliseconds);
                await Task.Delay(200);
                stall = Math.Max(stall, await writer.StopAsync());
            }

            if (i < MigrationRuns - 1) await migrator.DownAsync(ValidateLimits);
        }

        Record($"MCP migration, {chats:N0} chats", times, "", key: $"mcp {chats}");
        _rows.Add(($"  longest writer stall on chats", Ms(stall), $"< lock_timeout ({LockTimeout.TotalMilliseconds:0} ms)"));
    }

    /// <summary>The usage limits migration and its validation on <paramref name="users"/> users, with a writer on users.</summary>
    private async Task UsageLimitsAsync(int users)
    {
        output.WriteLine($"Usage limits with {users:N0} users, {MigrationRuns} runs, a writer inserting and updating users ...");
        var database = await CreateDatabaseAsync();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database });
        await migrator.UpAsync(BeforeUsageLimits);
        var seed = Stopwatch.StartNew();
        await Sql.ExecuteAsync(database, $"""
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
                VALUES ('00000000-0000-0000-0000-000000000001', 'writer@example.com', 'writer', '\x00', now(), now());
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
                SELECT gen_random_uuid(), 'u' || g || '@example.com', 'u' || g, '\x00', now(), now()
                FROM generate_series(1, {users}) g;
            """);
        await Sql.ExecuteAsync(database, "VACUUM ANALYZE users; CHECKPOINT");
        output.WriteLine($"  seeded in {seed.Elapsed.TotalSeconds:0.0} s");

        var blocking = new List<double>();
        var validate = new List<double>();
        var stall = 0.0;
        for (var i = 0; i < MigrationRuns; i++)
        {
            await using (var writer = Writer.Start(database, """
                WITH u AS (INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
                    SELECT id, id || '@example.com', id::text, '\x00', now(), now() FROM (SELECT gen_random_uuid() AS id) n RETURNING id)
                UPDATE users SET updated_at = now() WHERE id = '00000000-0000-0000-0000-000000000001'
                """))
            {
                await Task.Delay(200);
                blocking.Add((await migrator.UpAsync(UsageLimits)).Single().Duration.TotalMilliseconds);
                validate.Add((await migrator.UpAsync(ValidateLimits)).Single().Duration.TotalMilliseconds);
                await Task.Delay(200);
                stall = Math.Max(stall, await writer.StopAsync());
            }

            if (i < MigrationRuns - 1) await migrator.DownAsync(BeforeUsageLimits);
        }

        Record($"usage limits blocking step (ADD COLUMN + NOT VALID), {users:N0} users", blocking, "", key: $"limits {users}");
        Record($"usage limits VALIDATE (no writer blocked), {users:N0} users", validate, "grows with rows");
        _rows.Add(($"  longest writer stall on users", Ms(stall), $"< lock_timeout ({LockTimeout.TotalMilliseconds:0} ms)"));
    }

    private void Record(string figure, List<double> samples, string target, string? key = null)
    {
        var median = Median(samples);
        if (key is not null) _medians[key] = median;
        _rows.Add((figure, $"{Ms(median)} (runs: {string.Join(" ", samples.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))})", target));
    }

    private void AddRatio(string figure, string numerator, string denominator, string target) =>
        _rows.Add(($"  ratio {figure}", (_medians[numerator] / _medians[denominator]).ToString("0.00", CultureInfo.InvariantCulture), target));

    private void Print(TimeSpan elapsed)
    {
        output.WriteLine();
        output.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, PostgreSQL {cluster.MajorVersion} (throwaway cluster, SCRAM, fsync off)");
        var width = _rows.Max(r => r.Figure.Length);
        var valueWidth = _rows.Max(r => r.Value.Length);
        output.WriteLine($"| {"figure".PadRight(width)} | {"median".PadRight(valueWidth)} | target |");
        output.WriteLine($"|{new string('-', width + 2)}|{new string('-', valueWidth + 2)}|--------|");
        foreach (var (figure, value, target) in _rows) output.WriteLine($"| {figure.PadRight(width)} | {value.PadRight(valueWidth)} | {target} |");
        output.WriteLine($"Measured in {elapsed.TotalSeconds:0} s.");
    }

    private async Task<string> CreateDatabaseAsync()
    {
        var name = $"bench_{++_databases}";
        await Sql.ExecuteAsync(cluster.ConnectionString, $"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Wall time of a whole process, in ms; the connection goes through the environment, never argv.</summary>
    private static async Task<double> TimeProcessAsync(string program, string[] arguments, string connectionString, string? expectOutput)
    {
        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        var environment = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = connectionString,
            ["PGHOST"] = cs.Host,
            ["PGPORT"] = cs.Port.ToString(CultureInfo.InvariantCulture),
            ["PGUSER"] = cs.Username,
            ["PGPASSWORD"] = cs.Password,
            ["PGDATABASE"] = cs.Database,
        };
        var watch = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync(program, arguments, environment);
        var elapsed = watch.Elapsed.TotalMilliseconds;
        var text = result.StandardOutput + result.StandardError;
        if (result.ExitCode != 0 || (expectOutput is not null && !text.Contains(expectOutput, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited {result.ExitCode}: {text.Trim()}");
        }

        return elapsed;
    }

    private static double Median(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string RatioOfMedians(List<double> ours, List<double> floor) =>
        (Median(ours) / Median(floor)).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Ms(double ms) => ms.ToString("0", CultureInfo.InvariantCulture) + " ms";
}

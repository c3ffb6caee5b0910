using BenchmarkDotNet.Running;
using Coderd.Database.Bench;
using Coderd.Database.Tests.Support;

// Verbs: `migrate` (the timing harness of whole processes and migrations), `lockstall` (the
// migration behind a long transaction, old and new lock strategy side by side), `classify`
// (BenchmarkDotNet; everything after the verb goes to it, e.g. `classify --job short`), and
// `all`, which runs them in one go. Run from the repository root in Release:
//   dotnet run -c Release --project tools/Bench -- all
const string Usage = """
    Usage: dotnet run -c Release --project tools/Bench -- <verb> [options]
      all        migrate, lockstall, then classify with a short job
      migrate    coderd-db up against psql, the MCP and usage-limit migrations at 10k and 1M rows
                 --cli <coderd-db>       time this published coderd-db instead of publishing one
                                         (publishing natively takes minutes: publish once, reuse)
                 --baseline <coderd-db>  also time this one (e.g. of the previous commit), alternately
      lockstall  the MCP migration while a report holds chats for 8 s and 2 writers write to it:
                 longest writer stall, time and attempts of up, before and now; then a report
                 outlasting the retry budget
      classify   constraint violation classification against the inline floor and Enum.Parse
                 (BenchmarkDotNet options may follow, e.g. --job short)
    """;

switch (args.FirstOrDefault())
{
    case "migrate":
        return await MigrationBenchmarks.RunAsync(Root(), Console.Out, Option("--cli"), Option("--baseline"));
    case "lockstall":
        return await LockStallBenchmark.RunAsync(Console.Out);
    case "classify":
        return Classify(args[1..]);
    case "all":
        var migrate = await MigrationBenchmarks.RunAsync(Root(), Console.Out, Option("--cli"), Option("--baseline"));
        if (migrate != 0) return migrate;
        var lockStall = await LockStallBenchmark.RunAsync(Console.Out);
        return lockStall != 0 ? lockStall : Classify(["--job", "short"]);
    default:
        Console.Error.WriteLine(Usage);
        return args.Length == 0 ? 0 : 2;
}

// The value after an option of migrate (and all), e.g. `--cli bin/coderd-db`; null when absent.
string? Option(string name)
{
    var at = Array.IndexOf(args, name);
    return at > 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static int Classify(string[] options)
{
    Console.WriteLine(ViolationSource.Describe());
    var summary = BenchmarkRunner.Run<ClassifyBenchmarks>(args: options);
    return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
}

static string Root() =>
    RepositoryRoot.Find(Directory.GetCurrentDirectory())
    ?? throw new InvalidOperationException($"Run the benchmarks from inside the repository (no {RepositoryRoot.SolutionFile} above the current folder).");

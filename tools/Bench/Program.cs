using BenchmarkDotNet.Running;
using Coderd.Database.Bench;

// One verb per benchmark group; everything after the verb goes to BenchmarkDotNet
// (e.g. `-- classify --job short`). Add a group by adding a line here.
var groups = new SortedDictionary<string, (Type Type, string About)>(StringComparer.Ordinal)
{
    ["classify"] = (typeof(ClassifyBenchmarks), "constraint violation classification against the inline floor and Enum.Parse"),
};

if (args.Length == 0 || !groups.TryGetValue(args[0], out var group))
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project tools/Bench -- <group> [BenchmarkDotNet options, e.g. --job short]");
    foreach (var (name, (_, about)) in groups) Console.Error.WriteLine($"  {name,-10} {about}");
    return args.Length == 0 ? 0 : 1;
}

Console.WriteLine(ViolationSource.Describe());
var summary = BenchmarkRunner.Run(group.Type, args: args[1..]);
return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;

using System.Diagnostics;
using Coderd.Database.Generator;
using Coderd.Database.Tests.Support;

// Regenerates Constraints/Generated/*.g.cs and schema-dump.sql from a scratch database the
// migrations build on the tests' server choice: dotnet run --project tools/Generator
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

if (RepositoryRoot.Find(Environment.CurrentDirectory) is not { } root)
{
    Console.Error.WriteLine($"generator: it rewrites files of the repository, and there is no {RepositoryRoot.SolutionFile} in {Environment.CurrentDirectory} or above; run it from the checkout.");
    return 2;
}

try
{
    var watch = Stopwatch.StartNew();
    await ConstraintGenerator.RunAsync(root, Console.Out, stop.Token);
    Console.WriteLine($"Done in {watch.Elapsed.TotalSeconds:0.00} s.");
    return 0;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    Console.Error.WriteLine($"generator: {e.Message.ReplaceLineEndings(" ")}");
    return 1;
}

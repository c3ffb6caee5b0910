using System.Diagnostics;
using Coderd.Database.Cli;
using Coderd.Database.Tests.Cli;
using CoderdDb = Coderd.Database.Cli.Program;

namespace Coderd.Database.UnitTests.Cli;

/// <summary>Runs <c>coderd-db</c> in this process, with captured output and only the environment variables given.</summary>
internal static class InProcess
{
    public static Task<CliRun> RunAsync(params string[] arguments) => RunAsync(arguments, new Dictionary<string, string?>());

    public static async Task<CliRun> RunAsync(string[] arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var watch = Stopwatch.StartNew();
        var exitCode = await CoderdDb.RunAsync(arguments, new Terminal(output, error, name => environment.GetValueOrDefault(name)));
        return new CliRun(exitCode, output.ToString(), error.ToString(), watch.Elapsed);
    }
}

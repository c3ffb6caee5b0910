using System.Diagnostics;
using System.Text;

namespace Coderd.Database.Server;

/// <summary>Runs a program to completion and captures what it printed.</summary>
public static class ProcessRunner
{
    /// <summary>How a program ended: its exit code and everything it wrote to stdout and stderr.</summary>
    /// <param name="ExitCode">Its exit code.</param>
    /// <param name="StandardOutput">What it wrote to stdout.</param>
    /// <param name="StandardError">What it wrote to stderr.</param>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>
    /// Runs <paramref name="fileName"/> (a bare name is looked up on PATH) with <paramref name="arguments"/>
    /// passed one by one, never through a shell, and stdin closed, so that a prompt fails instead of
    /// hanging. <paramref name="environment"/> adds variables to the inherited ones, or removes those
    /// with a null value: the way to hand over a secret instead of the command line. Cancelling kills it.
    /// </summary>
    /// <exception cref="TimeoutException">It ran longer than <paramref name="timeout"/> (default two minutes) and was killed.</exception>
    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8, WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) startInfo.Environment.Remove(name);
            else startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{Path.GetFileName(fileName)} did not finish within {limit.TotalSeconds:0} s and was stopped.");
        }
    }
}

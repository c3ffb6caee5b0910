using System.Diagnostics;
using System.Text;

namespace Coderd.Database.Server;

/// <summary>Runs a program to completion and captures what it printed.</summary>
public static class ProcessRunner
{
    /// <summary>How a program ended.</summary>
    /// <param name="ExitCode">Its exit code.</param>
    /// <param name="StandardOutput">Everything it wrote to stdout.</param>
    /// <param name="StandardError">Everything it wrote to stderr.</param>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Runs <paramref name="fileName"/> with arguments passed as a list (never through a shell) and a closed stdin.</summary>
    /// <param name="fileName">The program; a bare name is looked up on PATH.</param>
    /// <param name="arguments">Passed one by one, so no quoting is needed.</param>
    /// <param name="environment">Variables added to (or, with a null value, removed from) the
    /// inherited environment; the way to hand over secrets instead of the command line.</param>
    /// <param name="workingDirectory">Null for the current one.</param>
    /// <param name="timeout">Default two minutes.</param>
    /// <param name="cancellationToken">Kills the program when cancelled.</param>
    /// <exception cref="TimeoutException">It ran longer than <paramref name="timeout"/> and was killed.</exception>
    public static async Task<Result> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) startInfo.Environment.Remove(name);
            else startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        // Nothing is ever fed to these programs; a closed stdin makes any prompt fail instead of hang.
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

using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// Runs the built <c>coderd-db</c> as a real child process. The test project builds it through a
/// project reference and records where its output is (assembly metadata written at build time).
/// </summary>
/// <remarks>
/// Children never inherit <c>DATABASE_URL</c>, <c>CODERD_DB_DATA</c> or any <c>PG*</c> variable: a
/// test states its target explicitly, and the developer's database or embedded folder is never touched.
/// </remarks>
internal static class CoderdDb
{
    public static readonly string DllPath = Metadata("CoderdDbPath");

    private static readonly string DotnetHost = FindDotnetHost();

    public static Task<CliRun> RunAsync(params string[] arguments) => RunAsync(arguments, null);

    public static async Task<CliRun> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment)
    {
        await using var process = Start(arguments, environment);
        return await process.WaitAsync(TimeSpan.FromSeconds(90));
    }

    public static CliProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var startInfo = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(DllPath);
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);
        startInfo.Environment.Remove("DATABASE_URL");
        startInfo.Environment.Remove("CODERD_DB_DATA");
        // The developer's libpq variables would name a target of their own (or be refused).
        foreach (var name in startInfo.Environment.Keys.Where(name => name.StartsWith("PG", StringComparison.Ordinal)).ToList()) startInfo.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) startInfo.Environment.Remove(name);
            else startInfo.Environment[name] = value;
        }

        return new CliProcess(Process.Start(startInfo)!);
    }

    private static string Metadata(string key) =>
        typeof(CoderdDb).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no {key} metadata; build it with dotnet build/test, which writes it.");

    private static string FindDotnetHost()
    {
        // Set by the SDK for the processes it starts; otherwise the muxer sits three folders above the runtime.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}

/// <summary>A running <c>coderd-db</c>; output is collected as it comes.</summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;
    private readonly Stopwatch _watch = Stopwatch.StartNew();

    public CliProcess(Process process)
    {
        _process = process;
        _process.StandardInput.Close();
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public void Terminate() => Signal(Signals.Terminate);

    public void InterruptWithCtrlC() => Signal(Signals.Interrupt);

    /// <summary>SIGKILL: no handler runs, the server has to notice the closed connection.</summary>
    public void KillHard() => _process.Kill();

    public async Task<CliRun> WaitAsync(TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            throw new TimeoutException($"coderd-db did not exit within {timeout.TotalSeconds:0} s; stderr so far was killed with it.");
        }

        return new CliRun(_process.ExitCode, await _stdout, await _stderr, _watch.Elapsed);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Signal(int signal)
    {
        if (!Signals.Send(_process.Id, signal)) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }
}

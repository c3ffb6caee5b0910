namespace Coderd.Database.Cli;

/// <summary>
/// What one run of the CLI writes to and reads its environment from: the process's own in
/// <see cref="Program"/>, captured ones when tests run the CLI in process.
/// </summary>
/// <param name="Out">Results: what a verb produced (for <c>status</c> and <c>script</c>, data).</param>
/// <param name="Error">Notes and errors.</param>
/// <param name="Variable">Reads an environment variable; null when unset.</param>
internal sealed record Terminal(TextWriter Out, TextWriter Error, Func<string, string?> Variable)
{
    /// <summary>This process's stdout, stderr and environment.</summary>
    public static Terminal Process { get; } = new(Console.Out, Console.Error, Environment.GetEnvironmentVariable);
}

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// What a finished run of <c>coderd-db</c> left behind, as a process here or in process in the
/// unit tests (which compile this file too).
/// </summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public string Output => Stdout + Stderr;

    /// <summary>The non-empty lines of stderr, except the note naming the database (<see cref="TargetNote"/>) and <see cref="Warnings"/>.</summary>
    public string[] ErrorLines => Lines.Where(line => !IsTargetNote(line) && !IsWarning(line)).ToArray();

    /// <summary>
    /// The warnings on stderr (<c>Warning: ...</c>), e.g. that PUBLIC may create in schema public,
    /// as on PostgreSQL 13 and 14 by default.
    /// </summary>
    public string[] Warnings => Lines.Where(IsWarning).ToArray();

    /// <summary>The line every verb that needs a database prints once on stderr, naming it ("Using ..."); null when none was printed.</summary>
    public string? TargetNote => Lines.SingleOrDefault(IsTargetNote);

    private string[] Lines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Exited with <paramref name="exitCode"/>, saying why in one <c>coderd-db: </c> line that holds none of <paramref name="secrets"/>.</summary>
    public void AssertOneLineFailure(int exitCode, params string[] secrets)
    {
        Assert.True(ExitCode == exitCode, ToString());
        Assert.StartsWith("coderd-db: ", Assert.Single(ErrorLines), StringComparison.Ordinal);
        foreach (var secret in secrets) Assert.DoesNotContain(secret, Output, StringComparison.Ordinal);
    }

    private static bool IsTargetNote(string line) => line.StartsWith("Using ", StringComparison.Ordinal);

    private static bool IsWarning(string line) => line.StartsWith("Warning: ", StringComparison.Ordinal);

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

using Coderd.Database.Generator;

namespace Coderd.Database.Tests.Constraints;

/// <summary>The checked-out repository the tests were built from, found by walking up to the solution file.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = ConstraintGenerator.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException(
            $"No {ConstraintGenerator.SolutionFile} above {AppContext.BaseDirectory}; run the tests from a checkout of the repository.");
}

namespace Coderd.Database.Tests.Constraints;

/// <summary>The checked-out repository the tests were built from, found by walking up to the solution file.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "Coderd.Database.slnx"))) return folder.FullName;
        }

        throw new InvalidOperationException(
            $"No Coderd.Database.slnx above {AppContext.BaseDirectory}; run the tests from a checkout of the repository.");
    }
}

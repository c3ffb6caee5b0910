namespace Coderd.Database.Tests.Support;

/// <summary>The checkout the tests, the generator and the bench run in: the folder holding <see cref="SolutionFile"/>.</summary>
public static class RepositoryRoot
{
    /// <summary>The file that marks the root.</summary>
    public const string SolutionFile = "Coderd.Database.slnx";

    /// <summary>The root above this program's folder or, failing that, above the current folder.</summary>
    /// <exception cref="InvalidOperationException">Neither is inside a checkout.</exception>
    public static string Path => Find(AppContext.BaseDirectory) ?? Find(Environment.CurrentDirectory)
        ?? throw new InvalidOperationException($"No {SolutionFile} above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}; run from a checkout of the repository.");

    /// <summary>The nearest folder at or above <paramref name="startFolder"/> holding <see cref="SolutionFile"/>; null when none does.</summary>
    public static string? Find(string startFolder)
    {
        for (var folder = new DirectoryInfo(startFolder); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, SolutionFile))) return folder.FullName;
        }

        return null;
    }
}

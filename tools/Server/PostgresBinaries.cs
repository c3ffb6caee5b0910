using System.Globalization;
using System.Text.RegularExpressions;

namespace Coderd.Database.Server;

/// <summary>
/// The PostgreSQL programs of one major version: Debian's versioned folders
/// (<c>/usr/lib/postgresql/&lt;N&gt;/bin</c>) first, then PATH.
/// </summary>
/// <remarks>
/// A version may be only partly installed (a client package brings <c>pg_dump</c> and <c>psql</c>
/// but no server), so each program is looked up when asked for, and a missing one says what to
/// install.
/// </remarks>
internal sealed partial class PostgresBinaries
{
    private const string VersionedRoot = "/usr/lib/postgresql";

    private PostgresBinaries(int majorVersion) => MajorVersion = majorVersion;

    /// <summary>The major version every program returned by this instance belongs to.</summary>
    public int MajorVersion { get; }

    /// <summary>Full path of <c>initdb</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string InitDb => Require("initdb", ServerPackage);

    /// <summary>Full path of <c>pg_ctl</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string PgCtl => Require("pg_ctl", ServerPackage);

    /// <summary>Full path of <c>postgres</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string Postgres => Require("postgres", ServerPackage);

    /// <summary>Full path of <c>pg_dump</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string PgDump => Require("pg_dump", ClientPackage);

    /// <summary>Full path of <c>psql</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string Psql => Require("psql", ClientPackage);

    private string ServerPackage => $"postgresql-{MajorVersion}";

    private string ClientPackage => $"postgresql-client-{MajorVersion}";

    /// <summary>
    /// The programs of <paramref name="majorVersion"/>, or with <c>null</c> of the newest version
    /// that has a server (<c>postgres</c>) installed.
    /// </summary>
    /// <exception cref="InvalidOperationException">No server is installed (only when
    /// <paramref name="majorVersion"/> is null).</exception>
    public static PostgresBinaries Find(int? majorVersion = null)
    {
        if (majorVersion is { } major)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(major, 10);
            return new PostgresBinaries(major);
        }

        var newest = VersionedFolders().FirstOrDefault(v => File.Exists(Path.Combine(v.Bin, "postgres")));
        if (newest.Bin is not null)
        {
            return new PostgresBinaries(newest.Major);
        }

        if (FindOnPath("postgres") is { } onPath && ReadMajorVersion(onPath) is { } pathMajor)
        {
            return new PostgresBinaries(pathMajor);
        }

        throw new InvalidOperationException(
            $"No PostgreSQL server found in {VersionedRoot}/*/bin or on PATH; install one (apt-get install postgresql-15) or put its bin folder on PATH.");
    }

    private string Require(string program, string package)
    {
        var versioned = Path.Combine(VersionedRoot, MajorVersion.ToString(CultureInfo.InvariantCulture), "bin", program);
        if (File.Exists(versioned))
        {
            return versioned;
        }

        // Asking each candidate for its version costs a process start, but only happens off Debian's layout.
        foreach (var candidate in CandidatesOnPath(program))
        {
            if (ReadMajorVersion(candidate) == MajorVersion)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"{program} for PostgreSQL {MajorVersion} not found in {VersionedRoot}/{MajorVersion}/bin or on PATH; install {package} or put its bin folder on PATH.");
    }

    private static IEnumerable<(int Major, string Bin)> VersionedFolders()
    {
        if (!Directory.Exists(VersionedRoot))
        {
            return [];
        }

        return Directory.EnumerateDirectories(VersionedRoot)
            .Select(d => (Ok: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var n), Major: n, Bin: Path.Combine(d, "bin")))
            .Where(v => v.Ok)
            .OrderByDescending(v => v.Major)
            .Select(v => (v.Major, v.Bin));
    }

    private static string? FindOnPath(string program) => CandidatesOnPath(program).FirstOrDefault();

    private static IEnumerable<string> CandidatesOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .Where(File.Exists)
            .Distinct(StringComparer.Ordinal);
    }

    private static int? ReadMajorVersion(string program)
    {
        try
        {
            var result = ProcessRunner.Run(program, ["--version"], TimeSpan.FromSeconds(10));
            var match = VersionPattern().Match(result.StandardOutput);
            return result.ExitCode == 0 && match.Success
                ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture)
                : null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\(PostgreSQL\) (\d+)")]
    private static partial Regex VersionPattern();
}

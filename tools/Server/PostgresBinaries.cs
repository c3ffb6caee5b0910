using System.Globalization;
using System.Text.RegularExpressions;

namespace Coderd.Database.Server;

/// <summary>
/// The PostgreSQL programs of one major version: Debian's versioned folders
/// (<c>/usr/lib/postgresql/&lt;N&gt;/bin</c>) first, then PATH.
/// </summary>
/// <remarks>
/// A version may be only partly installed (a client package brings <c>pg_dump</c> and <c>psql</c>
/// but no server), so each program is looked up when asked for, and a missing one says what to install.
/// </remarks>
public sealed partial class PostgresBinaries
{
    private const string VersionedRoot = "/usr/lib/postgresql";

    private PostgresBinaries(int majorVersion) => MajorVersion = majorVersion;

    /// <summary>The major version every program returned by this instance belongs to.</summary>
    public int MajorVersion { get; }

    /// <summary>Full path of <c>initdb</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string InitDb => Require("initdb", $"postgresql-{MajorVersion}");

    /// <summary>Full path of <c>pg_ctl</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string PgCtl => Require("pg_ctl", $"postgresql-{MajorVersion}");

    /// <summary>Full path of <c>pg_dump</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string PgDump => Require("pg_dump", $"postgresql-client-{MajorVersion}");

    /// <summary>Full path of <c>psql</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string Psql => Require("psql", $"postgresql-client-{MajorVersion}");

    /// <summary>
    /// The programs of <paramref name="majorVersion"/>, or with <c>null</c> of the newest version
    /// that has a server (<c>postgres</c>) installed.
    /// </summary>
    /// <exception cref="InvalidOperationException">No server is installed (only when <paramref name="majorVersion"/> is null).</exception>
    public static PostgresBinaries Find(int? majorVersion = null)
    {
        if (majorVersion is { } major)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(major, 10);
            return new PostgresBinaries(major);
        }

        var versioned = Directory.Exists(VersionedRoot)
            ? Directory.EnumerateDirectories(VersionedRoot)
                .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && File.Exists(Path.Combine(d, "bin", "postgres")) ? n : 0)
                .Max(n => (int?)n) ?? 0
            : 0;
        if (versioned > 0) return new PostgresBinaries(versioned);
        if (OnPath("postgres").Select(ReadMajorVersion).FirstOrDefault() is { } onPath) return new PostgresBinaries(onPath);
        throw new InvalidOperationException(
            $"No PostgreSQL server found in {VersionedRoot}/*/bin or on PATH; install one (apt-get install postgresql-15) or put its bin folder on PATH.");
    }

    private string Require(string program, string package)
    {
        var versioned = Path.Combine(VersionedRoot, MajorVersion.ToString(CultureInfo.InvariantCulture), "bin", program);
        if (File.Exists(versioned)) return versioned;
        // Asking each candidate for its version costs a process start, but only happens off Debian's layout.
        return OnPath(program).FirstOrDefault(candidate => ReadMajorVersion(candidate) == MajorVersion)
            ?? throw new InvalidOperationException(
                $"{program} for PostgreSQL {MajorVersion} not found in {VersionedRoot}/{MajorVersion}/bin or on PATH; install {package} or put its bin folder on PATH.");
    }

    private static IEnumerable<string> OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .Where(File.Exists)
            .Distinct(StringComparer.Ordinal);

    private static int? ReadMajorVersion(string program)
    {
        try
        {
            var result = ProcessRunner.RunAsync(program, ["--version"], timeout: TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            var match = VersionPattern().Match(result.StandardOutput);
            return result.ExitCode == 0 && match.Success ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\(PostgreSQL\) (\d+)")]
    private static partial Regex VersionPattern();
}

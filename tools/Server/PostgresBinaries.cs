using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Coderd.Database.Server;

/// <summary>
/// The PostgreSQL programs of one major version: in the folder given to <see cref="InFolder"/> if any,
/// then Debian's versioned folders (<c>/usr/lib/postgresql/&lt;N&gt;/bin</c>), then PATH.
/// </summary>
/// <remarks>
/// A version may be only partly installed (a client package brings <c>pg_dump</c> and <c>psql</c>
/// but no server), so each program is looked up when asked for, and a missing one says what to install.
/// </remarks>
public sealed partial class PostgresBinaries
{
    private const string VersionedRoot = "/usr/lib/postgresql";

    private PostgresBinaries(int majorVersion, string? folder = null) => (MajorVersion, Folder) = (majorVersion, folder);

    /// <summary>The major version every program returned by this instance belongs to.</summary>
    public int MajorVersion { get; }

    /// <summary>The folder looked in first (made by <see cref="InFolder"/>); null when only the installed versions are.</summary>
    public string? Folder { get; }

    /// <summary>Full path of <c>initdb</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string InitDb => Require("initdb", "postgresql");

    /// <summary>Full path of <c>pg_ctl</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string PgCtl => Require("pg_ctl", "postgresql");

    /// <summary>Full path of <c>pg_dump</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string PgDump => Require("pg_dump", "postgresql-client");

    /// <summary>Full path of <c>psql</c>.</summary>
    /// <exception cref="InvalidOperationException">It is not installed for this version.</exception>
    public string Psql => Require("psql", "postgresql-client");

    /// <summary>The programs of <paramref name="majorVersion"/>, or with <c>null</c> of the newest version that has a server installed.</summary>
    /// <exception cref="InvalidOperationException">No server is installed (only when <paramref name="majorVersion"/> is null).</exception>
    public static PostgresBinaries Find(int? majorVersion = null)
    {
        if (majorVersion is { } major)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(major, 10);
            return new PostgresBinaries(major);
        }

        return Installed("postgres").FirstOrDefault() is { Major: > 0 } newest ? new PostgresBinaries(newest.Major)
            : OnPath("postgres").Select(ReadMajorVersion).FirstOrDefault() is { } onPath ? new PostgresBinaries(onPath)
            : throw new InvalidOperationException(
                $"No PostgreSQL server found in {VersionedRoot}/*/bin or on PATH; install one (apt-get install postgresql-15) or put its bin folder on PATH.");
    }

    /// <summary>
    /// The programs in <paramref name="binFolder"/> (a server unpacked anywhere, such as a package that
    /// ships only <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c>), of the major its <c>postgres</c>
    /// reports; a program the folder lacks is looked up as <see cref="Find"/> does.
    /// </summary>
    /// <exception cref="InvalidOperationException">The folder holds no <c>postgres</c> that runs.</exception>
    public static PostgresBinaries InFolder(string binFolder)
    {
        var folder = Path.GetFullPath(binFolder);
        var postgres = Path.Combine(folder, "postgres");
        return (File.Exists(postgres) ? ReadMajorVersion(postgres) : null) is { } major
            ? new PostgresBinaries(major, folder)
            : throw new InvalidOperationException($"{folder} holds no PostgreSQL server that runs (no postgres, or `postgres --version` failed); point to the bin folder of a PostgreSQL installation.");
    }

    /// <summary>The newest installed <paramref name="program"/> of any major, or null: for a client, such as <c>psql</c>, that works with servers of other majors.</summary>
    public static string? FindAnyVersion(string program) => Installed(program).FirstOrDefault().Path ?? OnPath(program).FirstOrDefault();

    /// <summary>Whether <paramref name="program"/> of this major version is installed, and where.</summary>
    public bool TryGet(string program, [NotNullWhen(true)] out string? path) => (path = Locate(program)) is not null;

    private string Require(string program, string package) =>
        Locate(program) ?? throw new InvalidOperationException(
            $"{program} for PostgreSQL {MajorVersion} not found in {(Folder is null ? "" : Folder + ", ")}{VersionedRoot}/{MajorVersion}/bin or on PATH; install {package}-{MajorVersion} or put its bin folder on PATH.");

    private string? Locate(string program)
    {
        if (Folder is not null && File.Exists(Path.Combine(Folder, program))) return Path.Combine(Folder, program);
        var versioned = Path.Combine(VersionedRoot, MajorVersion.ToString(CultureInfo.InvariantCulture), "bin", program);
        // Asking each candidate on PATH for its version costs a process start, but only happens off Debian's layout.
        return File.Exists(versioned) ? versioned : OnPath(program).FirstOrDefault(candidate => ReadMajorVersion(candidate) == MajorVersion);
    }

    // Debian's versioned folders that hold program, newest first.
    private static IEnumerable<(int Major, string? Path)> Installed(string program) =>
        (Directory.Exists(VersionedRoot) ? Directory.EnumerateDirectories(VersionedRoot) : [])
            .Select(d => (Major: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0, Path: (string?)Path.Combine(d, "bin", program)))
            .Where(c => c.Major > 0 && File.Exists(c.Path))
            .OrderByDescending(c => c.Major);

    private static IEnumerable<string> OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).Where(File.Exists).Distinct(StringComparer.Ordinal);

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

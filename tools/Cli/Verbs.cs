using System.Diagnostics;
using System.Globalization;
using Coderd.Database.Generator;
using Coderd.Database.Migrations;
using Coderd.Database.Server;

namespace Coderd.Database.Cli;

/// <summary>
/// What each verb does. Results go to stdout; for <c>status</c> and <c>script</c>, whose stdout is
/// data, notes (where the embedded server is) go to stderr. Failures are thrown and turned into
/// one line and an exit code by <see cref="Program"/>.
/// </summary>
internal static class Verbs
{
    /// <summary>The DBA's dump that <c>verify --schema-dump</c> also compares with.</summary>
    public const string SchemaDumpFile = "schema-dump.sql";

    private const string DumpHeaderCommand = "coderd-db verify";

    public static Task<int> UpAsync(Settings settings, long? to, CancellationToken cancellationToken) =>
        WithMigratorAsync(settings, Console.Out, async migrator =>
        {
            var watch = Stopwatch.StartNew();
            var applied = await migrator.UpAsync(to, cancellationToken);
            if (applied.Count > 0)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Applied {applied.Count} migration(s) in {Seconds(watch.Elapsed)}; the database is at version {applied[^1].Version}."));
            }

            return Exit.Success;
        }, cancellationToken);

    public static Task<int> DownAsync(Settings settings, long to, CancellationToken cancellationToken) =>
        WithMigratorAsync(settings, Console.Out, async migrator =>
        {
            var watch = Stopwatch.StartNew();
            var undone = await migrator.DownAsync(to, cancellationToken);
            if (undone.Count > 0)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Rolled back {undone.Count} migration(s) in {Seconds(watch.Elapsed)}; the database is at version {to}."));
            }

            return Exit.Success;
        }, cancellationToken);

    public static Task<int> StatusAsync(Settings settings, bool json, CancellationToken cancellationToken) =>
        WithMigratorAsync(settings, Console.Error, async migrator =>
        {
            var status = await migrator.StatusAsync(cancellationToken);
            Console.Out.Write(json ? StatusJson.Write(status) : StatusText(status));
            return Exit.Success;
        }, cancellationToken);

    public static async Task<int> ScriptAsync(Settings settings, long? from, long? to, CancellationToken cancellationToken)
    {
        if (from is { } start)
        {
            // Everything after a given version is known without a database: do not touch one.
            var offline = new SchemaMigrator(settings.ToMigratorOptions(connectionString: "", Console.Error));
            Console.Out.Write(offline.Script(start, to));
            return Exit.Success;
        }

        return await WithMigratorAsync(settings, Console.Error, async migrator =>
        {
            Console.Out.Write(await migrator.ScriptAsync(null, to, cancellationToken));
            return Exit.Success;
        }, cancellationToken);
    }

    public static Task<int> VerifyAsync(Settings settings, string? schemaDumpPath, CancellationToken cancellationToken)
    {
        // Find the file before connecting: a missing file is a usage error, whatever the database holds.
        var path = schemaDumpPath is null ? null : FindSchemaDump(schemaDumpPath);
        return WithMigratorAsync(settings, Console.Out, async (migrator, target) =>
        {
            var verification = await migrator.VerifyAsync(cancellationToken);
            foreach (var difference in verification.Differences) Console.Out.WriteLine(difference);
            if (!verification.Matches)
            {
                throw new CliException(Exit.Mismatch, string.Create(CultureInfo.InvariantCulture,
                    $"The schema has drifted from the one version {verification.Version} makes: {verification.Differences.Count} difference(s), listed above as `object: expected ..., found ...`; find who changed it by hand."));
            }

            if (path is not null) await CompareDumpAsync(path, target, cancellationToken);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"The database is at version {verification.Version} and its schema matches this build{(path is null ? "" : $" and {path}")}."));
            return Exit.Success;
        }, cancellationToken);
    }

    private static async Task CompareDumpAsync(string path, Target target, CancellationToken cancellationToken)
    {
        var expected = SchemaDump.Normalize(await File.ReadAllTextAsync(path, cancellationToken), DumpHeaderCommand);
        string actual;
        try
        {
            actual = await SchemaDump.DumpAsync(target.ConnectionString, DumpHeaderCommand, cancellationToken: cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(Exit.Usage,
                $"Cannot dump the schema to compare: {e.Message.TrimEnd('.')}. --schema-dump needs the pg_dump of the server's major version on this host; verify without it needs none.", e);
        }

        if (FirstDifference(expected, actual) is { } difference)
        {
            throw new CliException(Exit.Mismatch,
                $"The schema dump has drifted from {path}: {difference}; find who changed it by hand, or regenerate the file if the migrations changed.");
        }
    }

    /// <summary>
    /// The generator: a scratch database on the tests' server choice (TEST_DATABASE_URL, else Docker,
    /// else a throwaway cluster; never DATABASE_URL or the embedded one), migrated, read, dumped.
    /// </summary>
    public static async Task<int> GenerateAsync(CancellationToken cancellationToken)
    {
        var root = ConstraintGenerator.FindRepositoryRoot(Environment.CurrentDirectory)
            ?? throw new CliException(Exit.Usage,
                $"gen rewrites files of the repository, and there is no {ConstraintGenerator.SolutionFile} in {Environment.CurrentDirectory} or above; run it from the checkout.");
        var watch = Stopwatch.StartNew();
        await ConstraintGenerator.RunAsync(root, Console.Out, cancellationToken);
        Console.Out.WriteLine($"Done in {Seconds(watch.Elapsed)}.");
        return Exit.Success;
    }

    private static Task<int> WithMigratorAsync(Settings settings, TextWriter log, Func<SchemaMigrator, Task<int>> work, CancellationToken cancellationToken) =>
        WithMigratorAsync(settings, log, (migrator, _) => work(migrator), cancellationToken);

    private static async Task<int> WithMigratorAsync(
        Settings settings, TextWriter log, Func<SchemaMigrator, Target, Task<int>> work, CancellationToken cancellationToken)
    {
        // Load any extra migrations first: a bad path should fail before a server is started for it.
        var options = settings.ToMigratorOptions(connectionString: "", log);
        await using var target = await Target.OpenAsync(settings, log, cancellationToken);
        if (settings.Verbose) log.WriteLine($"Database: {target.Description}");
        var migrator = new SchemaMigrator(options with { ConnectionString = target.ConnectionString });
        return await work(migrator, target);
    }

    private static string StatusText(MigrationStatus status)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"PostgreSQL {status.ServerVersion}\n");
        foreach (var m in status.Migrations)
        {
            var state = m.AppliedAt is { } at ? StatusJson.Timestamp(at) : "pending";
            var unknown = m.Known ? "" : " (not in this build)";
            text.Append(CultureInfo.InvariantCulture, $"{m.Version}  {state,-27}  {m.Description}{unknown}\n");
        }

        var applied = status.Migrations.Count(m => m.AppliedAt is not null);
        text.Append(CultureInfo.InvariantCulture, $"{applied} applied, {status.Pending.Count()} pending");
        if (status.Unknown.Any()) text.Append(CultureInfo.InvariantCulture, $", {status.Unknown.Count()} unknown to this build");
        text.Append(".\n");
        return text.ToString();
    }

    private static string FindSchemaDump(string given) =>
        File.Exists(given)
            ? Path.GetFullPath(given)
            : throw new CliException(Exit.Usage, $"--schema-dump: {given} does not exist; pass the path of {SchemaDumpFile}.");

    /// <summary>
    /// The lines that differ between two dumps, after their common beginning and end, as
    /// "line N: the file has `a`, the database has `b` `c`"; null when equal.
    /// </summary>
    internal static string? FirstDifference(string expected, string actual)
    {
        if (expected == actual) return null;
        var want = expected.Split('\n');
        var have = actual.Split('\n');
        var start = 0;
        while (start < want.Length && start < have.Length && want[start] == have[start]) start++;
        var end = 0;
        while (end < want.Length - start && end < have.Length - start && want[^(end + 1)] == have[^(end + 1)]) end++;
        static string Show(string[] lines, int from, int count) => count == 0
            ? "nothing"
            : string.Join(" ", lines.Skip(from).Take(count).Where(Meaningful).Take(3).Select(l => $"`{Shorten(l.Trim())}`"))
              + (count > 3 ? $" ({count} lines)" : "");
        // pg_dump frames every object with "--" comment lines; they say nothing on their own.
        static bool Meaningful(string line) => line.Trim() is not ("" or "--");
        return string.Create(CultureInfo.InvariantCulture,
            $"at line {start + 1} the file has {Show(want, start, want.Length - start - end)}, the database has {Show(have, start, have.Length - start - end)}");
    }

    private static string Shorten(string text) => text.Length <= 70 ? text : text[..67] + "...";

    private static string Seconds(TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.00} s");
}

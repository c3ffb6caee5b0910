using System.Diagnostics;
using System.Globalization;
using Coderd.Database.Migrations;
using Coderd.Database.Server;

namespace Coderd.Database.Cli;

/// <summary>
/// What each verb does. Results and progress go to stdout, except for <c>status</c> and
/// <c>script</c>, whose stdout is data; notes (which database is used) and warnings always go to stderr.
/// Failures are thrown and turned into one line and an exit code by <see cref="Program"/>.
/// </summary>
internal static class Verbs
{
    private const string DumpHeaderCommand = "coderd-db verify";

    public static Task<int> UpAsync(Terminal terminal, Settings settings, long? to, CancellationToken cancellationToken) =>
        WithMigratorAsync(terminal, settings, terminal.Out, async migrator =>
        {
            var watch = Stopwatch.StartNew();
            var applied = await migrator.UpAsync(to, cancellationToken);
            if (applied.Count > 0)
            {
                terminal.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Applied {applied.Count} migration(s) in {Seconds(watch.Elapsed)}; the database is at version {applied[^1].Version}."));
            }

            return Exit.Success;
        }, cancellationToken);

    public static Task<int> DownAsync(Terminal terminal, Settings settings, long to, CancellationToken cancellationToken) =>
        WithMigratorAsync(terminal, settings, terminal.Out, async migrator =>
        {
            var watch = Stopwatch.StartNew();
            var undone = await migrator.DownAsync(to, cancellationToken);
            if (undone.Count > 0)
            {
                terminal.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Rolled back {undone.Count} migration(s) in {Seconds(watch.Elapsed)}; the database is at version {to}."));
            }

            return Exit.Success;
        }, cancellationToken);

    public static Task<int> StatusAsync(Terminal terminal, Settings settings, bool json, CancellationToken cancellationToken) =>
        WithMigratorAsync(terminal, settings, terminal.Error, async migrator =>
        {
            var status = await migrator.StatusAsync(cancellationToken);
            terminal.Out.Write(json ? StatusJson.Write(status) : StatusText(status));
            return Exit.Success;
        }, cancellationToken);

    public static async Task<int> ScriptAsync(Terminal terminal, Settings settings, long? from, long? to, CancellationToken cancellationToken)
    {
        if (from is { } start)
        {
            // Everything after a given version is known without a database: do not touch one.
            var offline = new SchemaMigrator(settings.ToMigratorOptions(connectionString: "", terminal.Error, terminal.Error));
            terminal.Out.Write(offline.Script(start, to));
            return Exit.Success;
        }

        return await WithMigratorAsync(terminal, settings, terminal.Error, async migrator =>
        {
            terminal.Out.Write(await migrator.ScriptAsync(null, to, cancellationToken));
            return Exit.Success;
        }, cancellationToken);
    }

    public static Task<int> VerifyAsync(Terminal terminal, Settings settings, string? schemaDumpPath, CancellationToken cancellationToken)
    {
        // Find the file before connecting: a missing file is a usage error, whatever the database holds.
        var path = schemaDumpPath is null ? null : FindSchemaDump(schemaDumpPath);
        return WithMigratorAsync(terminal, settings, terminal.Out, async (migrator, target) =>
        {
            var verification = await migrator.VerifyAsync(cancellationToken);
            foreach (var difference in verification.Differences) terminal.Out.WriteLine(difference);
            if (!verification.Matches)
            {
                throw new CliException(Exit.Mismatch, string.Create(CultureInfo.InvariantCulture,
                    $"The schema has drifted from the one version {verification.Version} makes: {verification.Differences.Count} difference(s), listed above as `object: expected ..., found ...`; find who changed it by hand."));
            }

            if (path is not null) await CompareDumpAsync(path, target, cancellationToken);
            terminal.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
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

        if (SchemaDump.FirstDifference(expected, actual) is { } difference)
        {
            throw new CliException(Exit.Mismatch,
                $"The schema dump has drifted from {path}: {difference}; find who changed it by hand, or regenerate the file if the migrations changed.");
        }
    }

    private static Task<int> WithMigratorAsync(
        Terminal terminal, Settings settings, TextWriter log, Func<SchemaMigrator, Task<int>> work, CancellationToken cancellationToken) =>
        WithMigratorAsync(terminal, settings, log, (migrator, _) => work(migrator), cancellationToken);

    private static async Task<int> WithMigratorAsync(
        Terminal terminal, Settings settings, TextWriter log, Func<SchemaMigrator, Target, Task<int>> work, CancellationToken cancellationToken)
    {
        await using var target = await Target.OpenAsync(settings, terminal.Error, cancellationToken);
        var migrator = new SchemaMigrator(settings.ToMigratorOptions(target.ConnectionString, log, terminal.Error));
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
            : throw new CliException(Exit.Usage, $"--schema-dump: {given} does not exist; pass the path of {SchemaDump.FileName}.");

    private static string Seconds(TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.00} s");
}

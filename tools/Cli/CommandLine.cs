using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Coderd.Database.Migrations;

namespace Coderd.Database.Cli;

/// <summary>The verbs and options. Values are checked here, so a verb only ever sees valid ones.</summary>
internal static class CommandLine
{
    private static readonly Option<string> Connection = new("--connection", "-c")
    {
        Description = $"Npgsql keyword string or postgres://user:pass@host:port/db URL. Default: ${Target.UrlVariable}, else the embedded PostgreSQL.",
        HelpName = "CONNECTION",
        Recursive = true,
    };

    private static readonly Option<string> DataDirectory = new("--data-dir")
    {
        Description = $"Folder of the embedded PostgreSQL, used when no connection is given. Default: ${Target.DataVariable}, else {Server.LocalCluster.DefaultPersistentFolder}.",
        HelpName = "FOLDER",
        Recursive = true,
    };

    private static readonly MigratorOptions Defaults = new() { ConnectionString = "" };

    private static readonly Option<double> LockWait = Seconds("--lock-wait", 60, "How long to wait, before each migration, for the lock another migrator holds before giving up (exit 4).", allowZero: true);

    private static readonly Option<double> LockTimeout = Seconds("--lock-timeout", Defaults.LockTimeout.TotalSeconds,
        "lock_timeout in each migration that declares none: how long a statement may queue behind other sessions (whose queries on the table then queue behind it) before the attempt is rolled back.",
        allowZero: false);

    private static readonly Option<double> LockRetryBudget = Seconds("--lock-retry-budget", Defaults.LockRetryBudget.TotalSeconds,
        "How long a migration that hit the lock timeout keeps trying, waiting without queueing for the blocking transaction to end; 0 = one attempt.",
        allowZero: true, minimum: 0);

    private static readonly Option<double> StatementTimeout = Seconds("--statement-timeout", 600,
        "statement_timeout in each migration; the client gives up on a server silent for 5 s longer (exit 3); 0 = neither.", allowZero: true);

    private static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Say which database is used; print stack traces on errors.",
        Recursive = true,
    };

    // Test-only: adds the migrations of a built assembly, e.g. one that fails halfway.
    private static readonly Option<string[]> ExtraMigrations = new("--extra-migrations")
    {
        Hidden = true,
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public static bool IsVerbose(ParseResult result) => result.GetValue(Verbose);

    public static RootCommand Build()
    {
        var root = new RootCommand("Applies, rolls back, reports, scripts and verifies the coderd database schema.")
        {
            Connection, DataDirectory, LockWait, LockTimeout, LockRetryBudget, StatementTimeout, Verbose, ExtraMigrations,
        };

        var upTo = Version("--to", "Apply up to and including this version (default: all).");
        var allowNewer = new Option<bool>("--allow-newer")
        {
            Description = "Succeed, with a warning, when the database has applied versions newer than all of this build's and all of this build's are applied (an older build after a rolling update).",
        };
        var up = new Command("up", "Apply the pending migrations, each in its own transaction.") { upTo, allowNewer };
        up.SetAction((r, ct) => Verbs.UpAsync(Read(r) with { AllowNewer = r.GetValue(allowNewer) }, r.GetValue(upTo), ct));

        var downTo = Version("--to", "Roll back every migration newer than this version; 0 = all of them. Required.");
        var down = new Command("down", "Roll back to a version, printing what each step drops.") { downTo };
        down.Validators.Add(r =>
        {
            if (r.GetResult(downTo) is null) r.AddError("down needs --to VERSION (0 rolls back everything); it never guesses how far to go.");
        });
        down.SetAction((r, ct) => Verbs.DownAsync(Read(r), r.GetValue(downTo)!.Value, ct));

        var json = new Option<bool>("--json") { Description = "One JSON object instead of text." };
        var status = new Command("status", "List every migration with its applied time or pending, and the server version.") { json };
        status.SetAction((r, ct) => Verbs.StatusAsync(Read(r), r.GetValue(json), ct));

        var scriptFrom = Version("--from", "Script the migrations after this version; 0 = all, without a database (default: what the database has pending).");
        var scriptTo = Version("--to", "Stop at this version (default: the newest).");
        var script = new Command("script", "Print the SQL `up` would run, as a psql script; changes nothing.") { scriptFrom, scriptTo };
        script.SetAction((r, ct) => Verbs.ScriptAsync(Read(r), r.GetValue(scriptFrom), r.GetValue(scriptTo), ct));

        var schemaDump = new Option<string>("--schema-dump")
        {
            Description = $"Also compare a pg_dump of the database with this {Verbs.SchemaDumpFile} (needs the pg_dump of the server's major).",
            HelpName = "PATH",
        };
        var verify = new Command("verify",
            "Exit 0 only if the database is at the newest version and its schema is the one this build makes; print each difference otherwise.") { schemaDump };
        verify.SetAction((r, ct) => Verbs.VerifyAsync(Read(r), r.GetValue(schemaDump), ct));

        var gen = new Command("gen",
            "Regenerate Constraints/Generated/*.g.cs, Migrations/schema-snapshot.json and schema-dump.sql from a scratch database the migrations build (the tests' server choice; ignores --connection).");
        gen.SetAction((_, ct) => Verbs.GenerateAsync(ct));

        root.Subcommands.Add(up);
        root.Subcommands.Add(down);
        root.Subcommands.Add(status);
        root.Subcommands.Add(script);
        root.Subcommands.Add(verify);
        root.Subcommands.Add(gen);
        return root;
    }

    private static Settings Read(ParseResult r) => new()
    {
        Connection = r.GetValue(Connection),
        DataDirectory = r.GetValue(DataDirectory),
        LockWait = TimeSpan.FromSeconds(r.GetValue(LockWait)),
        LockTimeout = TimeSpan.FromSeconds(r.GetValue(LockTimeout)),
        StatementTimeout = TimeSpan.FromSeconds(r.GetValue(StatementTimeout)),
        LockRetryBudget = TimeSpan.FromSeconds(r.GetValue(LockRetryBudget)),
        Verbose = r.GetValue(Verbose),
        ExtraMigrations = r.GetValue(ExtraMigrations) ?? [],
    };

    private static Option<long?> Version(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "VERSION",
        CustomParser = r => Parse<long?>(r, $"{name} must be a version (yyyyMMddnnnn) or 0.", (string text, out long? value) =>
        {
            var ok = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number);
            value = number;
            return ok;
        }),
    };

    /// <summary>
    /// A number of seconds: 0 when <paramref name="allowZero"/>, else at least <paramref name="minimum"/>
    /// (1 ms by default: timeouts are given to PostgreSQL in whole milliseconds, and it reads 0 as "no limit").
    /// </summary>
    private static Option<double> Seconds(string name, double defaultValue, string description, bool allowZero, double minimum = 0.001) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        HelpName = "SECONDS",
        Recursive = true,
        CustomParser = r => Parse(r,
            string.Create(CultureInfo.InvariantCulture, $"{name} must be a number of seconds, {(allowZero ? "0 or " : "")}{(minimum > 0 ? $"at least {minimum}" : "more")}."),
            (string text, out double value) =>
                double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
                && ((allowZero && value == 0) || value >= minimum)
                && value <= int.MaxValue / 1000.0),
    };

    private delegate bool TryParse<T>(string text, out T value);

    /// <summary>One token through <paramref name="tryParse"/>; a failure becomes a parse error with <paramref name="error"/>.</summary>
    private static T Parse<T>(ArgumentResult result, string error, TryParse<T> tryParse)
    {
        if (result.Tokens.Count == 1 && tryParse(result.Tokens[0].Value, out var value)) return value;
        result.AddError(error);
        return default!;
    }
}

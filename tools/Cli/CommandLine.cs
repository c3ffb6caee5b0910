using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Coderd.Database.Migrations;

namespace Coderd.Database.Cli;

/// <summary>The verbs and options. Values are checked here, so a verb only ever sees valid ones.</summary>
internal static partial class CommandLine
{
    private static readonly Option<string> Connection = new("--connection", "-c")
    {
        Description = $"Npgsql keywords (Host=...;Username=...), a postgres://user:pass@host:port/db URL, or libpq key=value pairs. Default: ${Target.UrlVariable}, else the PG* variables, else the embedded PostgreSQL.",
        HelpName = "CONNECTION",
        Recursive = true,
    };

    private static readonly Option<string> DataDirectory = new("--data-dir")
    {
        Description = $"Folder of the embedded PostgreSQL, used when no connection is given. Default: ${Target.DataVariable}, else {Target.DefaultFolder}.",
        HelpName = "FOLDER",
        Recursive = true,
    };

    private static readonly Option<double> LockWait = Seconds("--lock-wait", MigratorOptions.DefaultLockWait,
        "How long to wait, before each migration, for the lock another migrator holds, and for a server connection from a pooler whose connections are all taken, before giving up (exit 4).", allowZero: true);

    private static readonly Option<double> LockTimeout = Seconds("--lock-timeout", MigratorOptions.DefaultLockTimeout,
        "lock_timeout in each migration that declares none: how long a statement may queue behind other sessions (whose queries on the table then queue behind it) before the attempt is rolled back.",
        allowZero: false);

    private static readonly Option<double> LockRetryBudget = Seconds("--lock-retry-budget", MigratorOptions.DefaultLockRetryBudget,
        "How long a migration that hit the lock timeout keeps trying, waiting without queueing for the blocking transaction to end; 0 = one attempt.",
        allowZero: true, minimum: 0);

    private static readonly Option<double> StatementTimeout = Seconds("--statement-timeout", MigratorOptions.DefaultStatementTimeout,
        "statement_timeout in each migration; the client gives up on a server silent for 5 s longer (exit 3); 0 = neither.", allowZero: true);

    private static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces on errors.",
        Recursive = true,
    };

    // The options above are shared by every command tree; a tree is built per run (tests run several
    // in parallel in one process), and adding an option to one mutates the option's parent list.
    private static readonly Lock BuildGate = new();

    public static bool IsVerbose(ParseResult result) => result.GetValue(Verbose);

    public static RootCommand Build(Terminal terminal)
    {
        lock (BuildGate) return BuildTree(terminal);
    }

    private static RootCommand BuildTree(Terminal terminal)
    {
        var root = new RootCommand("Applies, rolls back, reports, scripts and verifies the coderd database schema.")
        {
            Connection, DataDirectory, LockWait, LockTimeout, LockRetryBudget, StatementTimeout, Verbose,
        };

        var upTo = Version("--to", "Apply up to and including this version (default: all).");
        var allowNewer = new Option<bool>("--allow-newer")
        {
            Description = "Succeed, with a warning, when the database has applied versions newer than all of this build's and all of this build's are applied (an older build after a rolling update).",
        };
        var up = new Command("up", "Apply the pending migrations, each in its own transaction.") { upTo, allowNewer };
        up.SetAction((r, ct) => Verbs.UpAsync(terminal, Read(r, terminal) with { AllowNewer = r.GetValue(allowNewer) }, r.GetValue(upTo), ct));

        var downTo = Version("--to", "Roll back every migration newer than this version; 0 = all of them. Required.");
        var down = new Command("down", "Roll back to a version, printing what each step drops.") { downTo };
        down.Validators.Add(r =>
        {
            if (r.GetResult(downTo) is null) r.AddError("down needs --to VERSION (0 rolls back everything); it never guesses how far to go.");
        });
        down.SetAction((r, ct) => Verbs.DownAsync(terminal, Read(r, terminal), r.GetValue(downTo)!.Value, ct));

        var json = new Option<bool>("--json") { Description = "One JSON object instead of text." };
        var status = new Command("status", "List every migration with its applied time or pending, and the server version.") { json };
        status.SetAction((r, ct) => Verbs.StatusAsync(terminal, Read(r, terminal), r.GetValue(json), ct));

        var scriptFrom = Version("--from", "Script the migrations after this version; 0 = all, without a database (default: what the database has pending).");
        var scriptTo = Version("--to", "Stop at this version (default: the newest).");
        var script = new Command("script", "Print the SQL `up` would run, as a psql script; changes nothing.") { scriptFrom, scriptTo };
        script.SetAction((r, ct) => Verbs.ScriptAsync(terminal, Read(r, terminal), r.GetValue(scriptFrom), r.GetValue(scriptTo), ct));

        var schemaDump = new Option<string>("--schema-dump")
        {
            Description = $"Also compare a pg_dump of the database with this {Server.SchemaDump.FileName} (needs the pg_dump of the server's major).",
            HelpName = "PATH",
        };
        var verify = new Command("verify",
            "Exit 0 only if the database is at the newest version and its schema is the one this build makes; print each difference otherwise.") { schemaDump };
        verify.SetAction((r, ct) => Verbs.VerifyAsync(terminal, Read(r, terminal), r.GetValue(schemaDump), ct));

        root.Subcommands.Add(up);
        root.Subcommands.Add(down);
        root.Subcommands.Add(status);
        root.Subcommands.Add(script);
        root.Subcommands.Add(verify);
        return root;
    }

    private static Settings Read(ParseResult r, Terminal terminal) => new()
    {
        // An option wins over the environment; the source is named in messages, never the text. An
        // empty value stays empty: a missing secret is refused, not read as "no connection".
        Connection = r.GetValue(Connection) ?? terminal.Variable(Target.UrlVariable),
        ConnectionSource = r.GetValue(Connection) is null ? Target.UrlVariable : "--connection",
        Variable = terminal.Variable,
        DataDirectory = r.GetValue(DataDirectory) ?? (terminal.Variable(Target.DataVariable) is { Length: > 0 } data ? data : null),
        LockWait = TimeSpan.FromSeconds(r.GetValue(LockWait)),
        LockTimeout = TimeSpan.FromSeconds(r.GetValue(LockTimeout)),
        StatementTimeout = TimeSpan.FromSeconds(r.GetValue(StatementTimeout)),
        LockRetryBudget = TimeSpan.FromSeconds(r.GetValue(LockRetryBudget)),
        Verbose = r.GetValue(Verbose),
    };

    private static Option<long?> Version(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "VERSION",
        CustomParser = r => Parse<long?>(r, $"{name} must be a version as `status` lists it (2026_03_19_0001 or 202603190001) or 0.", (string text, out long? value) =>
        {
            // The README and the class names write versions with underscores between the digit groups.
            value = VersionPattern().IsMatch(text)
                && long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                    ? number
                    : null;
            return value is not null;
        }),
    };

    /// <summary>
    /// A number of seconds: 0 when <paramref name="allowZero"/>, else at least <paramref name="minimum"/>
    /// (1 ms by default: timeouts are given to PostgreSQL in whole milliseconds, and it reads 0 as "no limit").
    /// </summary>
    private static Option<double> Seconds(string name, TimeSpan defaultValue, string description, bool allowZero, double minimum = 0.001) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue.TotalSeconds,
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

    [GeneratedRegex("^[0-9]+(_[0-9]+)*$")]
    private static partial Regex VersionPattern();
}

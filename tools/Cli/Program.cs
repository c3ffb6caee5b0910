using System.CommandLine;
using Coderd.Database.Migrations;
using Npgsql;

namespace Coderd.Database.Cli;

/// <summary>
/// <c>coderd-db</c>: the deployment CLI. Every failure ends as one line on stderr that says what
/// happened and what to do, and an exit code from <see cref="Exit"/>; never a password, and a
/// stack trace only with <c>--verbose</c>.
/// </summary>
internal static class Program
{
    private const string Name = "coderd-db";

    private static async Task<int> Main(string[] args)
    {
        using var interrupt = new Interrupt();
        return await RunAsync(args, Terminal.Process, interrupt);
    }

    /// <summary>One run of the CLI: what <c>Main</c> does, and what the unit tests call in process.</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="terminal">Where output goes and where environment variables come from.</param>
    /// <param name="interrupt">The signals that stop the run; null for none (in process).</param>
    /// <returns>The exit code.</returns>
    internal static async Task<int> RunAsync(string[] args, Terminal terminal, Interrupt? interrupt = null)
    {
        var parse = CommandLine.Build(terminal).Parse(args);
        if (parse.Errors.Count > 0) return UsageError(terminal, parse, args);

        var verbose = CommandLine.IsVerbose(parse);
        try
        {
            return await parse.InvokeAsync(
                // The CLI handles signals itself (rollback, then 130/143) and reports its own errors.
                new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false, Output = terminal.Out, Error = terminal.Error },
                interrupt?.Token ?? CancellationToken.None);
        }
        catch (Exception e) when (interrupt?.Signal is { } signal)
        {
            // Whatever the cancellation surfaced as (usually OperationCanceledException), the signal is the cause.
            return Fail(terminal, interrupt.ExitCode,
                $"Interrupted by {signal}: the running migration, if any, was rolled back and the lock released; earlier migrations stay applied.",
                e, verbose);
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            return Fail(terminal, code, message, e, verbose);
        }
    }

    /// <summary>The exit code and the one line a failure is reported with.</summary>
    internal static (int Code, string Message) Classify(Exception e) => e switch
    {
        CliException c => (c.ExitCode, c.Message),
        MigrationException m => (m.Error switch
        {
            MigrationError.MigrationFailed => Exit.Failed,
            MigrationError.ConnectionFailed or MigrationError.ConnectionLost or MigrationError.StandbyServer => Exit.Connection,
            MigrationError.LockWaitTimeout or MigrationError.HistoryChanged => Exit.LockWait,
            MigrationError.DatabaseAhead or MigrationError.DatabaseBehind or MigrationError.OutOfOrder or MigrationError.ForeignVersionTable => Exit.Mismatch,
            MigrationError.UnknownVersion or MigrationError.UnsupportedServer => Exit.Usage,
            _ => Exit.Failed,
        }, m.Message),
        PostgresException p => (Exit.Failed,
            $"PostgreSQL refused a statement: {p.SqlState}: {p.MessageText}; check that the role may create objects in this database."),
        NpgsqlException n => (Exit.Connection,
            $"Lost the connection to PostgreSQL: {(n.InnerException ?? n).Message.TrimEnd('.')}; check the server and run again (each migration is atomic)."),
        _ => (Exit.Failed, $"Unexpected {e.GetType().Name}: {e.Message.TrimEnd('.')}; run with --verbose for details."),
    };

    private static int Fail(Terminal terminal, int code, string message, Exception? e, bool verbose)
    {
        terminal.Error.WriteLine(Secrets.Scrub($"{Name}: {OneLine(message)}"));
        if (verbose && e is not null) terminal.Error.WriteLine(Secrets.Scrub(e.ToString()));
        return code;
    }

    /// <summary>One line instead of System.CommandLine's default of exit 1 and the whole help text.</summary>
    private static int UsageError(Terminal terminal, ParseResult parse, string[] args)
    {
        // An unknown word is the likelier mistake than the missing verb the parser reports first.
        // A word that may be (part of) a connection string is never echoed.
        var message = parse.UnmatchedTokens.Count > 0
            ? Secrets.MayBeConnectionText(parse.UnmatchedTokens[0])
                ? "Unrecognized argument (not shown: it may be part of a connection string, which goes after --connection, quoted as one word)"
                : $"Unrecognized command or argument '{parse.UnmatchedTokens[0]}'"
            : parse.Errors[0].Message;
        foreach (var arg in args.Where(Secrets.MayBeConnectionText)) message = message.Replace(arg, "(not shown)", StringComparison.Ordinal);
        var command = parse.CommandResult.Command is RootCommand ? Name : $"{Name} {parse.CommandResult.Command.Name}";
        terminal.Error.WriteLine($"{Name}: {OneLine(message).TrimEnd('.')}; see `{command} --help`.");
        return Exit.Usage;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}

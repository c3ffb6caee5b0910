using Coderd.Database.Cli;
using Coderd.Database.Server;

namespace Coderd.Database.UnitTests.Cli;

/// <summary>
/// Which database coderd-db picks and what it says about it, run in process with a closed port on
/// 127.0.0.1 as the only server: reaching the point of connecting shows as exit 3, and the note on
/// stderr names what it would have connected to. No PostgreSQL is needed, and none is started: the
/// embedded database's folder is named and must stay absent after every run.
/// </summary>
public sealed class ConnectionInputTests : IDisposable
{
    // Fragments of passwords: none may appear in any output. Lower case, as Npgsql lowercases the
    // keyword it names in its own errors.
    private const string Front = "xq7";
    private const string Back = "zp9";

    private static readonly int ClosedPort = LocalCluster.FreeLoopbackPort();

    private readonly string _embeddedFolder = Path.Combine(Path.GetTempPath(), "coderd-db-untouched-" + Guid.NewGuid().ToString("N"));

    public static TheoryData<string, string[]> PasswordForms => new()
    {
        // libpq key/value, what psql takes: once read as a host name and echoed whole.
        { $"host=127.0.0.1 port={ClosedPort} user=coder password={Front}{Back} dbname=coder", [Front + Back] },
        { $"host=127.0.0.1 port={ClosedPort} user=coder password='{Front} {Back}' dbname=coder", [Front, Back] },
        // A base64 password, percent-encoded as it must be in a URL.
        { $"postgres://coder:{Front}%2B%2F{Back}%3D%3D@127.0.0.1:{ClosedPort}/coder", [Front, Back] },
        // The same in the keyword forms, where '+', '/' and '=' need nothing.
        { $"Host=127.0.0.1;Port={ClosedPort};Username=coder;Password={Front}+/{Back}==;Database=coder", [Front, Back] },
        { $"host=127.0.0.1 port={ClosedPort} user=coder password={Front}+/{Back}== dbname=coder", [Front, Back] },
    };

    public static TheoryData<string, string[]> MalformedPasswordForms => new()
    {
        // Unencoded '/', '?', '#' or '@' in a URL's password: once read as host, port, database or parameters.
        { $"postgres://coder:5432/{Back}@127.0.0.1/coder", [Back] },
        { $"postgres://coder:5432?{Back}={Front}@127.0.0.1/coder", [Front, Back] },
        { $"postgres://coder:{Front}/{Back}?x@127.0.0.1:{ClosedPort}/coder", [Front, Back] },
        { $"postgres://coder:{Front}#{Back}@127.0.0.1:{ClosedPort}/coder", [Front, Back] },
        { $"postgres://coder:{Front}@{Back}@127.0.0.1:{ClosedPort}/coder", [Front, Back] },
        // An unencoded base64 password.
        { $"postgres://coder:{Front}+/{Back}==@127.0.0.1:{ClosedPort}/coder", [Front, Back] },
        // An unquoted ';' in an Npgsql password: the rest once echoed as an unknown keyword.
        { $"Host=127.0.0.1;Port={ClosedPort};Password={Front};{Back}=1;Database=coder", [Front, Back] },
        { $"Host=127.0.0.1;Port={ClosedPort};Password={Front};{Back};Database=coder", [Front, Back] },
        // An unquoted space in a libpq password.
        { $"host=127.0.0.1 port={ClosedPort} password={Front} {Back} dbname=coder", [Front, Back] },
        { $"host=127.0.0.1 port={ClosedPort} password={Front} {Back}=1 dbname=coder", [Front, Back] },
        { $"host=127.0.0.1 port={ClosedPort} password='{Front} {Back}", [Front, Back] },
    };

    [Theory]
    [MemberData(nameof(PasswordForms))]
    public async Task EveryPasswordFormReachesTheServerWithoutBeingPrinted(string connection, string[] fragments)
    {
        var run = await RunAsync(["status", "--connection", connection]);

        run.AssertOneLineFailure(Exit.Connection, fragments);
        Assert.Equal($"Using database \"coder\" on 127.0.0.1:{ClosedPort} as user \"coder\" (from --connection).", run.TargetNote);
    }

    [Theory]
    [MemberData(nameof(MalformedPasswordForms))]
    public async Task MalformedPasswordFormExits2WithoutAnyFragment(string connection, string[] fragments)
    {
        var run = await RunAsync(["status", "--connection", connection]);

        run.AssertOneLineFailure(Exit.Usage, fragments);
        Assert.Contains("--connection", run.Stderr, StringComparison.Ordinal);
        Assert.Null(run.TargetNote);
    }

    [Fact]
    public async Task UrlWithUnencodedSlashInThePasswordSaysToPercentEncode()
    {
        var run = await RunAsync(["status", "--connection", $"postgres://coder:{Front}/{Back}@127.0.0.1/coder"]);

        run.AssertOneLineFailure(Exit.Usage, Front, Back);
        Assert.Contains("malformed", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("%2F", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneLetterPasswordIsNotMaskedInsideOtherWords()
    {
        // 'Q' is inside "PostgreSQL" in the message: masking it there would mangle the word and so reveal it.
        var run = await RunAsync(["status", "--connection", $"Host=127.0.0.1;Port={ClosedPort};Username=coder;Password=Q;Database=coder"]);

        run.AssertOneLineFailure(Exit.Connection);
        Assert.Contains("PostgreSQL", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("***", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up", "postgres://coder:" + Front + "@127.0.0.1/coder")]
    [InlineData("up", "host=127.0.0.1", "password=" + Front)]
    [InlineData("up", "--connection", "host=127.0.0.1", "password=" + Front)]
    [InlineData("up", "Host=127.0.0.1;Password=" + Front)]
    public async Task ConnectionTextOutsideTheOptionIsNeverEchoed(params string[] arguments)
    {
        var run = await RunAsync(arguments);

        run.AssertOneLineFailure(Exit.Usage, Front, "127.0.0.1");
        Assert.Contains("--connection", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PgVariablesAloneNameTheTargetInsteadOfTheEmbeddedDatabase()
    {
        var run = await RunAsync(["up"], new()
        {
            ["PGHOST"] = "127.0.0.1", ["PGPORT"] = $"{ClosedPort}", ["PGDATABASE"] = "coder", ["PGUSER"] = "coder", ["PGPASSWORD"] = Front + Back,
        });

        run.AssertOneLineFailure(Exit.Connection, Front + Back);
        Assert.Equal($"Using database \"coder\" on 127.0.0.1:{ClosedPort} as user \"coder\" (from PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).", run.TargetNote);
    }

    [Theory]
    [InlineData("PGUSER", "coderd_db_absent")]
    [InlineData("PGPASSWORD", Front)]
    [InlineData("PGSSLMODE", "require")]
    [InlineData("PGAPPNAME", "coderd-db-test")]
    public async Task AnyPgVariableAloneRulesOutTheEmbeddedDatabase(string variable, string value)
    {
        // Only status, which changes nothing: the target is libpq's default host, whatever answers there.
        var run = await RunAsync(["status"], new() { [variable] = value });

        Assert.NotEqual(Exit.Usage, run.ExitCode);
        Assert.EndsWith($"(from {variable}).", run.TargetNote, StringComparison.Ordinal);
        Assert.DoesNotContain("embedded", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Front, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VariablesAreDefaultsUnderTheConnectionString()
    {
        var run = await RunAsync(["status", "--connection", $"host=127.0.0.1 port={ClosedPort} dbname=given"], new()
        {
            ["PGHOST"] = "localhost", ["PGPORT"] = "1", ["PGDATABASE"] = "ignored", ["PGUSER"] = "fromenv",
        });

        run.AssertOneLineFailure(Exit.Connection);
        Assert.Equal($"Using database \"given\" on 127.0.0.1:{ClosedPort} as user \"fromenv\" (from --connection and PGUSER).", run.TargetNote);
    }

    [Fact]
    public async Task WithoutAnyHostTheDefaultIsLibpqs()
    {
        var run = await RunAsync(["status", "--connection", $"Port={ClosedPort};Username=coder"]);

        run.AssertOneLineFailure(Exit.Connection);
        Assert.Contains($"on {LibpqEnvironment.DefaultHost(ClosedPort)}:{ClosedPort} as user \"coder\"", run.TargetNote, StringComparison.Ordinal);
        Assert.Contains("database \"coder\"", run.TargetNote, StringComparison.Ordinal);
        Assert.DoesNotContain("Unexpected", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task EmptyDatabaseUrlIsAMissingSecretAndExits2(string value)
    {
        var run = await RunAsync(["up"], new() { [Target.UrlVariable] = value });

        run.AssertOneLineFailure(Exit.Usage);
        Assert.Contains($"{Target.UrlVariable} is set but empty", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyConnectionOptionExits2()
    {
        var run = await RunAsync(["up", "--connection", ""]);

        run.AssertOneLineFailure(Exit.Usage);
        Assert.Contains("--connection is empty", run.Stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string> RefusedVariables => [.. LibpqEnvironment.Refused];

    [Theory]
    [MemberData(nameof(RefusedVariables))]
    public async Task UnhonouredPgVariableIsRefusedByName(string variable)
    {
        var run = await RunAsync(["up", "--connection", $"postgres://coder:{Front}@127.0.0.1:{ClosedPort}/coder"], new() { [variable] = Back });

        run.AssertOneLineFailure(Exit.Usage, Front, Back);
        Assert.StartsWith($"coderd-db: {variable} is set, and coderd-db does not honour it", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PGPORT", "port" + Back)]
    [InlineData("PGPORT", "70000")]
    [InlineData("PGSSLMODE", Back)]
    [InlineData("PGCONNECT_TIMEOUT", Back)]
    [InlineData("PGTARGETSESSIONATTRS", Back)]
    public async Task MalformedPgVariableExits2NamingItWithoutItsValue(string variable, string value)
    {
        var run = await RunAsync(["up", "--connection", $"host=127.0.0.1 dbname=coder"], new() { [variable] = value });

        run.AssertOneLineFailure(Exit.Usage, value);
        Assert.StartsWith($"coderd-db: {variable} is not", run.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_embeddedFolder)) Directory.Delete(_embeddedFolder, recursive: true);
    }

    private async Task<Tests.Cli.CliRun> RunAsync(string[] arguments, Dictionary<string, string?>? environment = null)
    {
        environment ??= [];
        environment[Target.DataVariable] = _embeddedFolder;
        var run = await InProcess.RunAsync(arguments, environment);
        Assert.False(Directory.Exists(_embeddedFolder), $"The embedded database was used although something named another target: {run}");
        return run;
    }
}

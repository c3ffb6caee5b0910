using System.Globalization;
using System.Security.Cryptography;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// The connection forms and libpq variables against a real server, as a deployment job gives them:
/// each reaches exactly the database it names, the password is never printed, and pg_dump (verify
/// --schema-dump) dumps that same database with the same credentials. Malformed input and
/// unreachable servers are the unit tests' (Coderd.Database.UnitTests, ConnectionInputTests).
/// </summary>
public sealed class ConnectionInputTests(PostgresFixture fixture)
{
    private static string SchemaDumpFile => Path.Combine(RepositoryRoot.Path, SchemaDump.FileName);

    [Fact]
    public async Task LibpqKeyValueStringWithAPasswordMigratesItsDatabase()
    {
        var database = new NpgsqlConnectionStringBuilder(await CliDatabases.CreateEmptyAsync(fixture));

        var run = await CoderdDb.RunAsync("up", "--connection",
            $"host={database.Host} port={database.Port} user={database.Username} password='{database.Password}' dbname={database.Database}");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(database.Password!, run.Output, StringComparison.Ordinal);
        Assert.Equal($"Using {ConnectionStrings.Describe(database)} (from --connection).", run.TargetNote);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database.ConnectionString)).Keys.Order());
    }

    [Fact]
    public async Task PgVariablesAloneMigrateTheDatabaseTheyNameNotTheEmbeddedOne()
    {
        // Given no --connection, no DATABASE_URL, and the libpq variables of a real database
        var database = new NpgsqlConnectionStringBuilder(await CliDatabases.CreateEmptyAsync(fixture));
        var embedded = Path.Combine(Path.GetTempPath(), "coderd-db-untouched-" + Guid.NewGuid().ToString("N"));

        // When up runs
        CliRun run;
        try
        {
            run = await CoderdDb.RunAsync(["up"], new Dictionary<string, string?>
            {
                ["PGHOST"] = database.Host, ["PGPORT"] = database.Port.ToString(CultureInfo.InvariantCulture),
                ["PGUSER"] = database.Username, ["PGPASSWORD"] = database.Password, ["PGDATABASE"] = database.Database,
                ["CODERD_DB_DATA"] = embedded,
            });
            Assert.False(Directory.Exists(embedded), "The embedded database was used although PG* variables named a database.");
        }
        finally
        {
            if (Directory.Exists(embedded)) Directory.Delete(embedded, recursive: true);
        }

        // Then that database is migrated, and the embedded one was never made
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"Using {ConnectionStrings.Describe(database)} (from PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).", run.TargetNote);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database.ConnectionString)).Keys.Order());
        Assert.DoesNotContain(database.Password!, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PgPortAndPgDatabaseCompleteAConnectionStringWithoutThem()
    {
        var database = new NpgsqlConnectionStringBuilder(await CliDatabases.CreateEmptyAsync(fixture));
        var partial = new NpgsqlConnectionStringBuilder { Host = database.Host, Username = database.Username, Password = database.Password };

        var run = await CoderdDb.RunAsync(["up", "--connection", partial.ConnectionString], new Dictionary<string, string?>
        {
            ["PGPORT"] = database.Port.ToString(CultureInfo.InvariantCulture), ["PGDATABASE"] = database.Database,
        });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"Using {ConnectionStrings.Describe(database)} (from --connection and PGPORT, PGDATABASE).", run.TargetNote);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database.ConnectionString)).Keys.Order());
    }

    [Theory]
    [InlineData("require")]
    [InlineData("verify-ca")]
    [InlineData("verify-full")]
    public async Task PgSslModeRequiringTlsRefusesAServerWithout(string mode)
    {
        // Given the tests' server, which speaks no TLS, and a connection string that says nothing of TLS
        var database = new NpgsqlConnectionStringBuilder(await CliDatabases.CreateEmptyAsync(fixture));
        Assert.SkipWhen(await CliDatabases.ScalarAsync<string>(database.ConnectionString, "SHOW ssl") == "on", "This server has TLS enabled.");
        database.Remove("SSL Mode");

        // When PGSSLMODE asks for TLS
        var run = await CoderdDb.RunAsync(["up", "--connection", database.ConnectionString], new Dictionary<string, string?> { ["PGSSLMODE"] = mode });

        // Then nothing runs in plaintext: the connection fails, and nothing was created
        run.AssertOneLineFailure(3, database.Password!);
        Assert.Contains("SSL", run.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("(from --connection and PGSSLMODE).", run.TargetNote, StringComparison.Ordinal);
        Assert.Empty(await CliDatabases.RecordedVersionsAsync(database.ConnectionString));
    }

    [Fact]
    public async Task VerifyDumpsTheDatabaseNamedLikeAConnectionStringNotTheOneItSeemsToName()
    {
        // Given a database named "dbname=st24_..." whose schema drifted where only pg_dump sees it (a
        // comment), and an intact database named st24_... beside it
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var (tricky, plain) = ($"dbname=st24_{suffix}", $"st24_{suffix}");
        var drifted = await RenamedMigratedDatabaseAsync(tricky);
        var intact = await RenamedMigratedDatabaseAsync(plain);
        try
        {
            await CliDatabases.ExecuteAsync(drifted, "COMMENT ON TABLE chats IS 'changed by hand'");
            await RequirePgDumpAsync(drifted);

            // When each is verified against the schema dump
            var driftedRun = await CoderdDb.RunAsync("verify", "--connection", drifted, "--schema-dump", SchemaDumpFile);
            var intactRun = await CoderdDb.RunAsync("verify", "--connection", intact, "--schema-dump", SchemaDumpFile);

            // Then the drifted one is caught, by its own dump
            Assert.True(intactRun.ExitCode == 0, intactRun.ToString());
            driftedRun.AssertOneLineFailure(5, CliDatabases.Password(drifted));
            Assert.Contains("schema dump has drifted", driftedRun.Stderr, StringComparison.Ordinal);
            Assert.Contains("changed by hand", driftedRun.Stderr, StringComparison.Ordinal);
            Assert.Contains($"database \"{tricky}\"", driftedRun.TargetNote, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Server.DropDatabaseAsync(tricky, TestContext.Current.CancellationToken);
            await fixture.Server.DropDatabaseAsync(plain, TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData("PGPASSWORD")]
    [InlineData("PGPASSFILE")]
    public async Task VerifySchemaDumpUsesAPasswordGivenOnlyByTheEnvironment(string variable)
    {
        // Given a connection string without the password, which the environment gives
        var database = new NpgsqlConnectionStringBuilder(await CliDatabases.CreateMigratedAsync(fixture));
        await RequirePgDumpAsync(database.ConnectionString);
        var password = database.Password!;
        database.Remove("Password");
        var passfile = Path.GetTempFileName();
        try
        {
            var environment = new Dictionary<string, string?>();
            if (variable == "PGPASSWORD")
            {
                environment[variable] = password;
            }
            else
            {
                static string Field(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);
                await File.WriteAllTextAsync(passfile,
                    $"{Field(database.Host!)}:{database.Port}:{Field(database.Database!)}:{Field(database.Username!)}:{Field(password)}\n", TestContext.Current.CancellationToken);
                // libpq ignores a password file others may read.
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(passfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                environment[variable] = passfile;
            }

            // When verify compares a pg_dump too
            var run = await CoderdDb.RunAsync(["verify", "--connection", database.ConnectionString, "--schema-dump", SchemaDumpFile], environment);

            // Then pg_dump got the password as well
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains(SchemaDump.FileName, run.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(password, run.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(passfile);
        }
    }

    /// <summary>A new migrated database, renamed to <paramref name="name"/>; its connection string.</summary>
    private async Task<string> RenamedMigratedDatabaseAsync(string name)
    {
        var created = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(fixture.Server.AdminConnectionString,
            $"ALTER DATABASE \"{CliDatabases.Database(created)}\" RENAME TO \"{name}\"");
        return new NpgsqlConnectionStringBuilder(created) { Database = name }.ConnectionString;
    }

    /// <summary>verify --schema-dump needs the pg_dump of the server's major; only PostgreSQL 15's can be installed here.</summary>
    private static async Task RequirePgDumpAsync(string connectionString)
    {
        var major = int.Parse((await CliDatabases.ScalarAsync<string>(connectionString, "SHOW server_version_num"))!, CultureInfo.InvariantCulture) / 10000;
        try
        {
            _ = PostgresBinaries.Find(major).PgDump;
        }
        catch (InvalidOperationException)
        {
            Assert.Skip($"No pg_dump of PostgreSQL {major} is installed.");
        }
    }
}

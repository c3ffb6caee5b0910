using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// TLS as libpq's sslmode promises it, against a server whose certificate is for 127.0.0.1 only:
/// verify-full checks the authority and the host name, whether the connection string or PGSSLMODE
/// and PGSSLROOTCERT say so; and verify's pg_dump gets the same root certificate and mode.
/// </summary>
public sealed class TlsConnectionTests(TlsServer server) : IClassFixture<TlsServer>
{
    [Fact]
    public async Task VerifyFullFromTheEnvironmentWithTheRightAuthorityMigrates()
    {
        var database = await server.CreateDatabaseAsync();

        var run = await CoderdDb.RunAsync(["up", "--connection", database], new Dictionary<string, string?>
        {
            ["PGSSLMODE"] = "verify-full", ["PGSSLROOTCERT"] = server.RootCertificate,
        });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.EndsWith("(from --connection and PGSSLMODE, PGSSLROOTCERT).", run.TargetNote, StringComparison.Ordinal);
        Assert.Equal(CliDatabases.Versions, (await CliDatabases.RecordedVersionsAsync(database)).Keys.Order());
    }

    [Theory]
    [InlineData("verify-ca")]
    [InlineData("verify-full")]
    public async Task VerifyingModeRefusesACertificateOfAnotherAuthority(string mode)
    {
        var database = await server.CreateDatabaseAsync();

        var run = await CoderdDb.RunAsync(["up", "--connection", database], new Dictionary<string, string?>
        {
            ["PGSSLMODE"] = mode, ["PGSSLROOTCERT"] = server.OtherRootCertificate,
        });

        run.AssertOneLineFailure(3, CliDatabases.Password(database));
        Assert.Empty(await CliDatabases.RecordedVersionsAsync(database));
    }

    [Fact]
    public async Task VerifyFullChecksTheHostNameAndVerifyCaDoesNot()
    {
        // The certificate names 127.0.0.1; "localhost" reaches the same server under another name.
        var database = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync()) { Host = "localhost" };
        var url = $"postgres://{database.Username}:{database.Password}@localhost:{database.Port}/{database.Database}?sslrootcert={Uri.EscapeDataString(server.RootCertificate)}&sslmode=";

        var full = await CoderdDb.RunAsync("status", "--connection", url + "verify-full");
        var ca = await CoderdDb.RunAsync("status", "--connection", url + "verify-ca");

        full.AssertOneLineFailure(3, database.Password!);
        Assert.True(ca.ExitCode == 0, ca.ToString());
    }

    [Fact]
    public async Task VerifySchemaDumpGivesPgDumpTheRootCertificate()
    {
        Assert.SkipUnless(PostgresBinaries.Find(server.MajorVersion).TryGet("pg_dump", out _),
            $"--schema-dump runs pg_dump {server.MajorVersion}, the server's major, which is not installed here.");
        // Given a migrated database that only verify-full with the test authority reaches
        var database = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync())
        {
            SslMode = SslMode.VerifyFull, RootCertificate = server.RootCertificate,
        };
        var up = await CoderdDb.RunAsync("up", "--connection", database.ConnectionString);
        Assert.True(up.ExitCode == 0, up.ToString());

        // When verify compares a pg_dump too
        var run = await CoderdDb.RunAsync("verify", "--connection", database.ConnectionString, "--schema-dump", Path.Combine(RepositoryRoot.Path, SchemaDump.FileName));

        // Then pg_dump connected the same way (libpq would otherwise look for ~/.postgresql/root.crt and fail)
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(SchemaDump.FileName, run.Stdout, StringComparison.Ordinal);
    }
}

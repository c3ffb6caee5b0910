using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.UnitTests.Server;

/// <summary>The PG* variables as psql reads them: each a default under the connection string, then libpq's own defaults.</summary>
public sealed class LibpqEnvironmentTests
{
    private const string Secret = "hunter2secret";

    /// <summary>Every honoured variable, a value for it, and what the builder must then say.</summary>
    public static TheoryData<string, string, string> EachVariable => new()
    {
        { "PGHOST", "db.internal", "Host=db.internal" },
        { "PGPORT", "6543", "Port=6543" },
        { "PGDATABASE", "coder", "Database=coder" },
        { "PGUSER", "app", "Username=app" },
        { "PGPASSWORD", Secret, $"Password={Secret}" },
        { "PGPASSFILE", "/etc/pgpass", "Passfile=/etc/pgpass" },
        { "PGSSLMODE", "require", "SSL Mode=Require" },
        { "PGSSLMODE", "verify-full", "SSL Mode=VerifyFull" },
        { "PGSSLMODE", "verify-ca", "SSL Mode=VerifyCA" },
        { "PGSSLMODE", "disable", "SSL Mode=Disable" },
        { "PGSSLROOTCERT", "/etc/ca.pem", "Root Certificate=/etc/ca.pem" },
        { "PGSSLCERT", "/etc/client.crt", "SSL Certificate=/etc/client.crt" },
        { "PGSSLKEY", "/etc/client.key", "SSL Key=/etc/client.key" },
        { "PGAPPNAME", "coderd-migrate", "Application Name=coderd-migrate" },
        { "PGCONNECT_TIMEOUT", "7", "Timeout=7" },
        { "PGCONNECT_TIMEOUT", "0", "Timeout=0" },
        { "PGOPTIONS", "-c statement_timeout=5s", "Options=\"-c statement_timeout=5s\"" },
        { "PGTARGETSESSIONATTRS", "read-write", "Target Session Attributes=read-write" },
        { "PGCLIENTENCODING", "UTF8", "Client Encoding=UTF8" },
    };

    [Fact]
    public void EveryHonouredVariableIsListedOnce()
    {
        Assert.Equal(LibpqEnvironment.Honoured.Order(StringComparer.Ordinal), EachVariable.Select(row => (string)row.Data.Item1).Distinct().Order(StringComparer.Ordinal));
        Assert.Empty(LibpqEnvironment.Honoured.Intersect(LibpqEnvironment.Refused));
    }

    [Theory]
    [MemberData(nameof(EachVariable))]
    public void EachVariableIsHonoured(string variable, string value, string keyword)
    {
        var builder = new NpgsqlConnectionStringBuilder();

        var used = LibpqEnvironment.ApplyDefaults(builder, Environment(new() { [variable] = value }));

        Assert.Equal([variable], used);
        Assert.Contains(keyword, builder.ConnectionString.Split(';'));
    }

    [Theory]
    [MemberData(nameof(EachVariable))]
    public void TheConnectionStringWinsOverEachVariable(string variable, string value, string keyword)
    {
        var given = ConnectionStrings.Parse(
            "host=given port=1 dbname=given user=given password=given passfile=/given sslmode=prefer sslrootcert=/given sslcert=/given " +
            "sslkey=/given application_name=given connect_timeout=3 options=given target_session_attrs=any client_encoding=SQL_ASCII");
        var before = given.ConnectionString;

        var used = LibpqEnvironment.ApplyDefaults(given, Environment(new() { [variable] = value }));

        Assert.Empty(used);
        Assert.Equal(before, given.ConnectionString);
        Assert.DoesNotContain(keyword, given.ConnectionString.Split(';'));
    }

    [Fact]
    public void WithNothingSetLibpqsDefaultsApply()
    {
        var builder = new NpgsqlConnectionStringBuilder();

        var used = LibpqEnvironment.ApplyDefaults(builder, Environment(new()));

        Assert.Empty(used);
        Assert.Equal(LibpqEnvironment.DefaultHost(5432), builder.Host);
        Assert.Equal(System.Environment.UserName, builder.Username);
        Assert.Equal(System.Environment.UserName, builder.Database);
        Assert.Null(builder.Password);
    }

    [Fact]
    public void DatabaseDefaultsToTheUserFromTheEnvironment()
    {
        var builder = ConnectionStrings.Parse("host=db");

        LibpqEnvironment.ApplyDefaults(builder, Environment(new() { ["PGUSER"] = "app" }));

        Assert.Equal("app", builder.Database);
    }

    [Theory]
    [InlineData("h1,h2", "5433,5434", "h1:5433,h2:5434", 5432)]
    [InlineData("h1,h2", "5433", "h1,h2", 5433)]
    [InlineData("h1,::1", "5433,5434", "h1:5433,[::1]:5434", 5432)]
    public void HostAndPortListsCombine(string hosts, string ports, string host, int port)
    {
        var builder = new NpgsqlConnectionStringBuilder();

        LibpqEnvironment.ApplyDefaults(builder, Environment(new() { ["PGHOST"] = hosts, ["PGPORT"] = ports }));

        Assert.Equal(host, builder.Host);
        Assert.Equal(port, builder.Port);
    }

    [Fact]
    public void PortFromTheEnvironmentAppliesToAHostFromTheString()
    {
        var builder = ConnectionStrings.Parse("postgres://app@db/coder");

        LibpqEnvironment.ApplyDefaults(builder, Environment(new() { ["PGPORT"] = "6543", ["PGHOST"] = "ignored" }));

        Assert.Equal("db", builder.Host);
        Assert.Equal(6543, builder.Port);
    }

    [Theory]
    [InlineData("PGPORT", "notaport")]
    [InlineData("PGPORT", "0")]
    [InlineData("PGPORT", "5432,5433")]
    [InlineData("PGSSLMODE", "sometimes")]
    [InlineData("PGSSLMODE", "verifyfull")]
    [InlineData("PGCONNECT_TIMEOUT", "soon")]
    [InlineData("PGCONNECT_TIMEOUT", "5000")]
    [InlineData("PGTARGETSESSIONATTRS", "prefer-primary")]
    public void MalformedVariableIsNamedWithoutItsValue(string variable, string value)
    {
        var error = Assert.Throws<FormatException>(() =>
            LibpqEnvironment.ApplyDefaults(ConnectionStrings.Parse("Host=db"), Environment(new() { [variable] = value })));

        Assert.StartsWith(variable, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyVariablesCountAsUnset()
    {
        var environment = Environment(new() { ["PGHOST"] = "", ["PGUSER"] = "" });

        Assert.Empty(LibpqEnvironment.SetVariables(environment));
        Assert.Null(LibpqEnvironment.FirstRefused(Environment(new() { ["PGSERVICE"] = "" })));
    }

    [Theory]
    [InlineData("PGSERVICE")]
    [InlineData("PGHOSTADDR")]
    [InlineData("PGREQUIRESSL")]
    [InlineData("PGGSSENCMODE")]
    [InlineData("PGREQUIREAUTH")]
    [InlineData("PGCHANNELBINDING")]
    [InlineData("PGSSLNEGOTIATION")]
    public void UnhonouredConnectionVariableIsFound(string variable)
    {
        Assert.Equal(variable, LibpqEnvironment.FirstRefused(Environment(new() { [variable] = "x", ["PGHOST"] = "db" })));
    }

    private static Func<string, string?> Environment(Dictionary<string, string?> variables) => name => variables.GetValueOrDefault(name);
}

using Coderd.Database.Server;
using Npgsql;

namespace Coderd.Database.UnitTests.Server;

public sealed class ConnectionStringsTests
{
    private const string Secret = "hunter2secret";

    [Fact]
    public void KeywordFormIsReadAsIs()
    {
        var builder = ConnectionStrings.Parse($"Host=db.internal;Port=6543;Username=app;Password={Secret};Database=coder;Include Error Detail=true");

        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("app", builder.Username);
        Assert.Equal(Secret, builder.Password);
        Assert.Equal("coder", builder.Database);
        Assert.True(builder.IncludeErrorDetail);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("postgresql")]
    [InlineData("POSTGRES")]
    public void UrlFormIsMappedToKeywords(string scheme)
    {
        var builder = ConnectionStrings.Parse($"{scheme}://app:{Secret}@db.internal:6543/coder?sslmode=verify-full&application_name=coderd&connect_timeout=7");

        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("app", builder.Username);
        Assert.Equal(Secret, builder.Password);
        Assert.Equal("coder", builder.Database);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("coderd", builder.ApplicationName);
        Assert.Equal(7, builder.Timeout);
    }

    [Fact]
    public void UrlWithoutPortOrPasswordKeepsDefaults()
    {
        var builder = ConnectionStrings.Parse("postgres://app@db.internal/coder");

        Assert.Equal(5432, builder.Port);
        Assert.Null(builder.Password);
        Assert.Equal("app", builder.Username);
    }

    [Fact]
    public void PercentEncodedUserPasswordAndDatabaseAreDecoded()
    {
        var builder = ConnectionStrings.Parse("postgresql://us%40er:p%40ss%3Aw%2Fo%23rd%C3%A9@localhost/my%20db");

        Assert.Equal("us@er", builder.Username);
        Assert.Equal("p@ss:w/o#rdé", builder.Password);
        Assert.Equal("my db", builder.Database);
    }

    [Fact]
    public void BracketedIpv6HostLosesItsBrackets()
    {
        var builder = ConnectionStrings.Parse("postgres://app@[::1]:5433/coder");

        Assert.Equal("::1", builder.Host);
        Assert.Equal(5433, builder.Port);
    }

    [Fact]
    public void QueryParametersOverrideTheAuthority()
    {
        var builder = ConnectionStrings.Parse("postgres:///coder?host=%2Fvar%2Frun%2Fpostgresql&user=app&port=5444");

        Assert.Equal("/var/run/postgresql", builder.Host);
        Assert.Equal("app", builder.Username);
        Assert.Equal(5444, builder.Port);
    }

    [Fact]
    public void UnknownQueryParameterIsRejectedWithoutItsName()
    {
        // It may be the rest of a password holding an unencoded '&'.
        var error = Assert.Throws<FormatException>(() => ConnectionStrings.Parse("postgres://app@h/coder?password=ab&pool_size=3"));

        Assert.DoesNotContain("pool_size", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a libpq connection parameter", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://app@h/coder?service=prod", "service")]
    [InlineData("host=h hostaddr=10.0.0.1", "hostaddr")]
    [InlineData("host=h gssencmode=require", "gssencmode")]
    public void KnownButUnsupportedLibpqParameterIsRefusedByName(string input, string parameter)
    {
        var error = Assert.Throws<FormatException>(() => ConnectionStrings.Parse(input));

        Assert.Contains($"does not support the", error.Message, StringComparison.Ordinal);
        Assert.Contains(parameter, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LibpqKeyValueFormIsMappedToKeywords()
    {
        var builder = ConnectionStrings.Parse(
            $"host=db.internal port=6543 dbname=coder user=app password={Secret} sslmode=verify-full sslrootcert=/etc/ca.pem " +
            "sslcert=/etc/client.crt sslkey=/etc/client.key application_name=coderd connect_timeout=7 options='-c statement_timeout=5s' " +
            "target_session_attrs=read-write passfile=/etc/pgpass client_encoding=UTF8");

        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("coder", builder.Database);
        Assert.Equal("app", builder.Username);
        Assert.Equal(Secret, builder.Password);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("/etc/ca.pem", builder.RootCertificate);
        Assert.Equal("/etc/client.crt", builder.SslCertificate);
        Assert.Equal("/etc/client.key", builder.SslKey);
        Assert.Equal("coderd", builder.ApplicationName);
        Assert.Equal(7, builder.Timeout);
        Assert.Equal("-c statement_timeout=5s", builder.Options);
        Assert.Equal("read-write", builder.TargetSessionAttributes);
        Assert.Equal("/etc/pgpass", builder.Passfile);
        Assert.Equal("UTF8", builder.ClientEncoding);
    }

    [Theory]
    [InlineData("password='a b\\'c\\\\d'", "a b'c\\d")]
    [InlineData("password=a\\ b", "a b")]
    [InlineData("password = 'x'", "x")]
    [InlineData("password=''", null)]
    [InlineData("password=a;b", "a;b")]
    [InlineData("password='a;b' port=1", "a;b")]
    [InlineData("password=p=q==", "p=q==")]
    public void LibpqQuotingRulesApply(string pair, string? password)
    {
        var builder = ConnectionStrings.Parse($"host=db {pair}");

        Assert.Equal("db", builder.Host);
        Assert.Equal(password, builder.Password);
    }

    [Theory]
    // Npgsql keywords: a ';' after the first value, or a key libpq would not know.
    [InlineData("host=db;port=5433", "db", 5433)]
    [InlineData("Host=db Port=5433", "db Port=5433", 5432)]
    [InlineData("Server=db;Port=5433", "db", 5433)]
    // libpq key/value: lower-case libpq keys separated by whitespace.
    [InlineData("host=db port=5433", "db", 5433)]
    [InlineData("  port=5433\thost=db  ", "db", 5433)]
    [InlineData("host=db", "db", 5432)]
    public void TheFormIsToldApartByItsFirstPair(string input, string host, int port)
    {
        var builder = ConnectionStrings.Parse(input);

        Assert.Equal(host, builder.Host);
        Assert.Equal(port, builder.Port);
    }

    [Fact]
    public void DatabaseNamedLikeAConnectionStringStaysThatName()
    {
        Assert.Equal("dbname=st24", ConnectionStrings.Parse("host=db dbname='dbname=st24'").Database);
        Assert.Equal("dbname=st24", ConnectionStrings.Parse("postgres://db/dbname%3Dst24").Database);
        Assert.Equal("dbname=st24", ConnectionStrings.Parse("Host=db;Database=\"dbname=st24\"").Database);
    }

    [Theory]
    [InlineData("postgres://app@h1:5433,h2,[::1]:5434/coder", "h1:5433,h2,[::1]:5434")]
    [InlineData("postgres://app@h1,h2/coder?port=5433", "h1,h2")]
    [InlineData("host=h1,h2 port=5433,5434 dbname=coder", "h1:5433,h2:5434")]
    [InlineData("host=h1,h2 port=5433 dbname=coder", "h1,h2")]
    public void SeveralHostsBecomeNpgsqlsHostList(string input, string hosts)
    {
        var builder = ConnectionStrings.Parse(input);

        Assert.Equal(hosts, builder.Host);
        Assert.Equal("coder", builder.Database);
    }

    [Theory]
    [InlineData("host=h1,h2 port=1,2,3")]
    [InlineData("host=h1,,h2")]
    [InlineData("postgres://h1,,h2/coder")]
    [InlineData("postgres://h1:x,h2/coder")]
    public void MalformedHostListIsRefused(string input)
    {
        Assert.Throws<FormatException>(() => ConnectionStrings.Parse(input));
    }

    [Fact]
    public void DescribeNamesDatabaseHostPortAndUserButNoPassword()
    {
        var builder = ConnectionStrings.Parse($"postgres://app:{Secret}@db.internal:6543/coder");

        Assert.Equal("database \"coder\" on db.internal:6543 as user \"app\"", ConnectionStrings.Describe(builder));
        Assert.Equal("database \"c\" on the socket in /var/run/postgresql (port 5432) as user \"u\"",
            ConnectionStrings.Describe(ConnectionStrings.Parse("host=/var/run/postgresql dbname=c user=u")));
    }

    [Fact]
    public void ToLibpqQuotesEveryValueAndLeavesThePasswordsOut()
    {
        var builder = ConnectionStrings.Parse(
            $"Host=h1:5433,h2;Port=5434;Database=\"dbname='x' y\\z\";Username=app;Password={Secret};SSL Password={Secret};SSL Mode=VerifyFull;Root Certificate=/ca.pem;" +
            "SSL Certificate=/c.crt;SSL Key=/c.key;Passfile=/pgpass;Application Name=job;Timeout=7;Target Session Attributes=read-write;Options=-c a=b");

        var libpq = ConnectionStrings.ToLibpq(builder);

        Assert.Equal(
            "host='h1,h2' port='5433,5434' dbname='dbname=\\'x\\' y\\\\z' user='app' passfile='/pgpass' sslmode='verify-full' sslrootcert='/ca.pem' " +
            "sslcert='/c.crt' sslkey='/c.key' application_name='job' connect_timeout='7' options='-c a=b' target_session_attrs='read-write'",
            libpq);
        Assert.DoesNotContain(Secret, libpq, StringComparison.Ordinal);
        // And libpq's reading of it gives the same values back.
        var back = ConnectionStrings.Parse(libpq);
        Assert.Equal("dbname='x' y\\z", back.Database);
        Assert.Equal("h1:5433,h2:5434", back.Host);
    }

    [Theory]
    [InlineData("postgres://app:" + Secret + "@db:notaport/coder")]
    [InlineData("postgres://app:" + Secret + "@db:70000/coder")]
    [InlineData("postgres://app:" + Secret + "@[::1/coder")]
    [InlineData("postgres://app:" + Secret + "@[::1]x/coder")]
    [InlineData("postgres://app:" + Secret + "%ZZ@db/coder")]
    [InlineData("postgres://app:" + Secret + "%FF@db/coder")]
    [InlineData("postgres://app:" + Secret + "@db/coder?sslmode=sometimes")]
    [InlineData("postgres://app:" + Secret + "@db/coder?sslpassword=%G1" + Secret)]
    [InlineData("postgres://app:" + Secret + "@db/coder?" + Secret)]
    [InlineData("postgres://app:" + Secret + "@db/coder#" + Secret)]
    [InlineData("postgres://app:" + Secret + "/x@db/coder")]
    [InlineData("postgres://app:5432?" + Secret + "=1@db/coder")]
    [InlineData("postgres://app:5432/" + Secret + "@db")]
    [InlineData("postgres://app:" + Secret + "@x@db/coder")]
    [InlineData("postgres://app@db/coder?password=a&" + Secret + "=1")]
    [InlineData("Host=db;Password=a;" + Secret + "=1")]
    [InlineData("Host=db;Password=a;" + Secret)]
    [InlineData("host=db password=a " + Secret)]
    [InlineData("host=db password=a " + Secret + "=1")]
    [InlineData("host=db password='" + Secret)]
    [InlineData("host=db port=" + Secret)]
    [InlineData("host=db sslmode=" + Secret)]
    [InlineData("mysql://app:" + Secret + "@db/coder")]
    [InlineData("Host=db;Password=" + Secret + ";Bogus Keyword=1")]
    [InlineData("Host=db;Password='" + Secret)]
    [InlineData("Host=db;Port=" + Secret + ";Password=" + Secret)]
    [InlineData(Secret)]
    [InlineData("   ")]
    public void MalformedInputGivesOneLineFormatExceptionWithoutPassword(string input)
    {
        var error = Assert.Throws<FormatException>(() => ConnectionStrings.Parse(input));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.NotEmpty(error.Message);
    }

    [Theory]
    [InlineData("postgres://app:" + Secret + "@db/coder?sslpassword=" + Secret)]
    [InlineData("Host=db;Username=app;Password=" + Secret + ";SSL Password=" + Secret)]
    public void RedactReplacesPasswordsWithStars(string input)
    {
        var redacted = ConnectionStrings.Redact(input);

        Assert.DoesNotContain("hunter2", redacted, StringComparison.Ordinal);
        Assert.Contains("Password=***", redacted, StringComparison.Ordinal);
        Assert.Contains("Host=db", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void RedactDoesNotEchoUnparseableInput()
    {
        var redacted = ConnectionStrings.Redact("postgres://app:" + Secret + "@db:bad/coder");

        Assert.DoesNotContain("hunter2", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void RedactLeavesTheBuilderUntouched()
    {
        var builder = ConnectionStrings.Parse($"Host=db;Password={Secret}");

        _ = ConnectionStrings.Redact(builder);

        Assert.Equal(Secret, builder.Password);
    }
}

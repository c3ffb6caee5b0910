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
    public void UnknownQueryParameterIsRejectedByName()
    {
        var error = Assert.Throws<FormatException>(() => ConnectionStrings.Parse("postgres://app@h/coder?pool_size=3"));

        Assert.Contains("'pool_size'", error.Message, StringComparison.Ordinal);
        Assert.Contains("sslmode", error.Message, StringComparison.Ordinal);
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
    [InlineData("postgres://app:" + Secret + "@h1,h2/coder")]
    [InlineData("postgres://app:" + Secret + "@db/coder#" + Secret)]
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

    [Fact]
    public void WithDatabaseChangesOnlyTheDatabase()
    {
        var changed = ConnectionStrings.Parse(ConnectionStrings.WithDatabase($"postgres://app:{Secret}@db:6543/coder?sslmode=require", "other"));

        Assert.Equal("other", changed.Database);
        Assert.Equal("db", changed.Host);
        Assert.Equal(6543, changed.Port);
        Assert.Equal("app", changed.Username);
        Assert.Equal(Secret, changed.Password);
        Assert.Equal(SslMode.Require, changed.SslMode);
    }
}

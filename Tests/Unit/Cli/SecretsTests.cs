using Coderd.Database.Cli;

namespace Coderd.Database.UnitTests.Cli;

/// <summary>The net under server and driver messages: a known password is masked where it stands as a whole token, and nowhere else.</summary>
public sealed class SecretsTests
{
    [Theory]
    [InlineData("password authentication failed: s3cret", "s3cret", "password authentication failed: ***")]
    [InlineData("Password=s3cret;Host=db", "s3cret", "Password=***;Host=db")]
    [InlineData("'s3cret' and \"s3cret\"", "s3cret", "'***' and \"***\"")]
    [InlineData("s3cret", "s3cret", "***")]
    // Base64 passwords begin and end with what is not a letter or digit.
    [InlineData("value ab+/cd== rejected", "ab+/cd==", "value *** rejected")]
    public void WholeTokenIsMasked(string text, string secret, string expected)
    {
        Assert.Equal(expected, Secrets.Scrub(text, [secret]));
    }

    [Theory]
    // Masking inside a word would mangle it and so reveal the password: cod***rd-db says "e".
    [InlineData("coderd-db: Cannot connect to PostgreSQL; check the credentials", "e")]
    [InlineData("coderd-db: Cannot connect to PostgreSQL", "Q")]
    [InlineData("xs3cret s3cretx 1s3cret1", "s3cret")]
    public void PasswordInsideAWordIsLeftAlone(string text, string secret)
    {
        Assert.Equal(text, Secrets.Scrub(text, [secret]));
    }

    [Fact]
    public void LongerPasswordIsMaskedWholeBeforeAShorterOneInsideIt()
    {
        Assert.Equal("*** and ***", Secrets.Scrub("ab-cd and cd", ["cd", "ab-cd"]));
    }

    [Theory]
    [InlineData("host=db", true)]
    [InlineData("postgres://u@h", true)]
    [InlineData("Host=db;Port=1", true)]
    [InlineData("a b", true)]
    [InlineData("migrate", false)]
    [InlineData("--no-such-option", false)]
    public void WordsThatMayBeConnectionTextAreRecognized(string word, bool mayBe)
    {
        Assert.Equal(mayBe, Secrets.MayBeConnectionText(word));
    }
}

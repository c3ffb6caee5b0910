using Coderd.Database.Migrations;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Which servers the runner accepts, decided from <c>server_version_num</c> before anything is read
/// or written. No server older than 13 can be started here, so the check is tested on its own; the
/// runner applies it to what every connection reports first.
/// </summary>
public sealed class ServerSupportTests
{
    [Theory]
    [InlineData(120017, "12.17")]
    [InlineData(90624, "9.6.24")]
    public void ServerOlderThan13IsRefusedWithOneLine(int versionNumber, string version)
    {
        var error = Assert.Throws<MigrationException>(() => SchemaMigrator.RequireSupported(versionNumber, version));

        Assert.Equal(MigrationError.UnsupportedServer, error.Error);
        Assert.Contains($"PostgreSQL {version}", error.Message, StringComparison.Ordinal);
        Assert.Contains("13 or newer", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(130000)]
    [InlineData(150018)]
    [InlineData(180004)]
    public void Server13OrNewerIsAccepted(int versionNumber) => SchemaMigrator.RequireSupported(versionNumber, "any");
}

using Coderd.Database.Server;

namespace Coderd.Database.Tests.Server;

public sealed class PostgresBinariesTests
{
    [Fact]
    public void NewestVersionHasEveryProgram()
    {
        var binaries = PostgresBinaries.Find();

        Assert.InRange(binaries.MajorVersion, 10, 99);
        Assert.All([binaries.InitDb, binaries.PgCtl, binaries.PgDump, binaries.Psql], path => Assert.True(File.Exists(path), path));
    }

    [Fact]
    public void ExplicitVersionGivesProgramsOfThatVersion()
    {
        var newest = PostgresBinaries.Find();

        var same = PostgresBinaries.Find(newest.MajorVersion);

        Assert.Equal(newest.PgDump, same.PgDump);
        Assert.Equal(newest.MajorVersion, same.MajorVersion);
    }

    [Fact]
    public void MissingVersionSaysWhatToInstallInOneLine()
    {
        var binaries = PostgresBinaries.Find(98);

        var client = Assert.Throws<InvalidOperationException>(() => binaries.PgDump);
        var server = Assert.Throws<InvalidOperationException>(() => binaries.InitDb);

        Assert.Contains("install postgresql-client-98", client.Message, StringComparison.Ordinal);
        Assert.Contains("install postgresql-98", server.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', client.Message);
    }
}

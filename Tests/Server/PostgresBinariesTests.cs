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
}

using Coderd.Database.Tests.Support;

namespace Coderd.Database.Tests.Server;

/// <summary>The servers TEST_POSTGRES_MAJOR can choose: the majors the README supports, pinned once.</summary>
public sealed class PostgresMajorsTests
{
    [Fact]
    public void PackageFilePinsEverySupportedMajorToAnExactVersion()
    {
        var pinned = PostgresMajors.Pinned();

        Assert.Equal([13, 14, 15, 16, 17, 18], pinned.Keys);
        // An exact version of the major's own line: no range that a later install could move.
        Assert.All(pinned, p => Assert.Matches($@"^{p.Key}\.\d+\.\d+(-[\w.]+)?$", p.Value));
    }

    [Fact]
    public async Task RequestedMajorRunsFromItsPinnedPackage()
    {
        Assert.SkipUnless(PostgresMajors.Requested() is not null, $"{PostgresMajors.MajorVariable} is not set: the run uses the installed PostgreSQL.");
        var major = PostgresMajors.Requested()!.Value;

        var binaries = await PostgresMajors.BinariesAsync(major, TestContext.Current.CancellationToken);

        Assert.Equal(major, binaries.MajorVersion);
        Assert.All([binaries.InitDb, binaries.PgCtl], path => Assert.StartsWith(binaries.Folder!, path, StringComparison.Ordinal));
    }
}

using Coderd.Database.Server;

namespace Coderd.Database.UnitTests.Server;

/// <summary>What a missing PostgreSQL program says; the installed ones are the database tests' to check.</summary>
public sealed class PostgresBinariesTests
{
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

    [Fact]
    public void FolderWithoutAServerSaysSoInOneLine()
    {
        var folder = Path.Combine(Path.GetTempPath(), "no-postgres-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<InvalidOperationException>(() => PostgresBinaries.InFolder(folder));

        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AnyVersionOfAProgramNobodyInstalledIsNull()
    {
        Assert.Null(PostgresBinaries.FindAnyVersion("pg_no_such_program"));
    }
}

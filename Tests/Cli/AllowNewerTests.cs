using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// A rolling update: a newer build has migrated the database, and a pod of the older build
/// restarts, its init container running <c>up</c>. With <c>--allow-newer</c> it starts (exit 0, one
/// warning) when the database is strictly ahead; anything else is still a mismatch (exit 5).
/// </summary>
public sealed class AllowNewerTests(PostgresFixture fixture)
{
    private const long Newer = 2099_12_31_0001;

    [Fact]
    public async Task DatabaseStrictlyAheadIsAcceptedWithOneWarningOnlyWhenAllowed()
    {
        // Given a database where a newer build has applied every migration of this one and one more
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, $"INSERT INTO public.schema_version (version, description) VALUES ({Newer}, 'from a newer build')");

        // When an older pod runs up, with and without --allow-newer
        var allowed = await CoderdDb.RunAsync("up", "--allow-newer", "--connection", database);
        var refused = await CoderdDb.RunAsync("up", "--connection", database);

        // Then with it, exit 0 and one warning (on stderr) naming the newer version; without it, exit 5 as before
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        var warning = Assert.Single(allowed.Warnings, line => line.Contains("ahead of this build", StringComparison.Ordinal));
        Assert.Contains(Newer.ToString(), warning, StringComparison.Ordinal);
        Assert.DoesNotContain("Warning: ", allowed.Stdout, StringComparison.Ordinal);
        Assert.Empty(allowed.ErrorLines);
        Assert.True(refused.ExitCode == 5, refused.ToString());
        Assert.Contains("--allow-newer", Assert.Single(refused.ErrorLines), StringComparison.Ordinal);
        Assert.Equal([.. CliDatabases.Versions, Newer], (await CliDatabases.RecordedVersionsAsync(database)).Keys.Order());
    }

    [Fact]
    public async Task UnknownVersionOlderThanThisBuildsNewestIsStillAMismatch()
    {
        // Given a database with an applied version this build does not know, older than its newest
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        var between = ValidateChatSpendLimits + 1;
        await CliDatabases.ExecuteAsync(database, $"INSERT INTO public.schema_version (version, description) VALUES ({between}, 'from another branch')");

        var run = await CoderdDb.RunAsync("up", "--allow-newer", "--connection", database);

        Assert.True(run.ExitCode == 5, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains(between.ToString(), line, StringComparison.Ordinal);
        Assert.DoesNotContain("--allow-newer", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewerVersionWithOneOfThisBuildsPendingIsStillAMismatch()
    {
        // Given a database ahead of this build but with one of this build's migrations pending
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await CliDatabases.ExecuteAsync(database, $"""
            DELETE FROM public.schema_version WHERE version = {AddMcpServerConfigs};
            INSERT INTO public.schema_version (version, description) VALUES ({Newer}, 'from a newer build');
            """);

        var run = await CoderdDb.RunAsync("up", "--allow-newer", "--connection", database);

        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }
}

using Coderd.Database.Migrations;
using Npgsql;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Waiting for the migration lock while a session of another role holds it: <c>pg_stat_activity</c>
/// hides that session's state and start times from a role that is no superuser (they read as
/// NULL). The wait and its reports go on; what is hidden is said to be unknown.
/// </summary>
public sealed class LockHolderTests(PostgresFixture postgres)
{
    [Fact]
    public async Task LockHeldByAnotherRolesSessionIsWaitedForAndReportedWithUnknownAge()
    {
        // Given a database owned and migrated by a role that is no superuser
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_waiter");

        // And a superuser's session, whose activity that role may not see, holding the migration lock
        await using var holder = await OpenAsync(new NpgsqlConnectionStringBuilder(database.AdminConnectionString) { ApplicationName = "dba-console" }.ConnectionString);
        await ExecuteAsync(holder, $"SELECT pg_advisory_lock({SchemaMigrator.LockKey})");

        // When the role runs up, allowed to wait two seconds
        var log = new StringWriter();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database.ConnectionString, LockWait = TimeSpan.FromSeconds(2), Log = TextWriter.Synchronized(log) });
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(cancellationToken: Token));

        // Then it waited (reporting the holder on the way) and gave up naming it, its state and age said to be unknown
        var expected = $"held by pid {holder.ProcessID} (dba-console, state unknown, connection age unknown)";
        Assert.Equal(MigrationError.LockWaitTimeout, error.Error);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(log.ToString().Split('\n'), line => line.StartsWith("Waiting for the migration lock", StringComparison.Ordinal) && line.Contains(expected, StringComparison.Ordinal));
        Assert.False(await RoleDatabase.ScalarAsync<bool>(database.ConnectionString, "SELECT to_regclass('public.schema_version') IS NOT NULL"));

        // And once the holder lets go, the same role migrates
        await ExecuteAsync(holder, $"SELECT pg_advisory_unlock({SchemaMigrator.LockKey})");
        Assert.Equal(History.Count, (await migrator.UpAsync(cancellationToken: Token)).Count);
    }
}

using Coderd.Database.Migrations;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// A role that may CREATE in <c>public</c> can plant there what the pinned search path cannot rule
/// out (a closer-matching overload of a function the schema calls). PostgreSQL 13 and 14 grant it
/// to PUBLIC by default, so the runner does not refuse: it warns once per run, naming the grantees
/// and the REVOKE that fixes it, and goes on. The schema's owner, the migrating role and superusers
/// are not warned about. Each test sets the ACL itself, so the outcome is the same on every major.
/// </summary>
public sealed class SchemaCreateGrantTests(PostgresFixture postgres)
{
    private const string RevokeFromPublic = "REVOKE CREATE ON SCHEMA public FROM PUBLIC;";

    [Fact]
    public async Task CreateGrantedToPublicIsWarnedOncePerRunWithTheRevokeAndTheRunGoesOn()
    {
        // Given a database whose public schema grants CREATE to PUBLIC (the default on 13 and 14)
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_acl");
        await RoleDatabase.ExecuteAsync(database.AdminConnectionString, "GRANT CREATE ON SCHEMA public TO PUBLIC");
        var (migrator, warnings, log) = Migrator(database.ConnectionString);

        // When the migrator migrates it
        var applied = await migrator.UpAsync(cancellationToken: Token);

        // Then it applied everything, and warned once, apart from its progress, naming PUBLIC and the statement that fixes it
        Assert.Equal(History.Count, applied.Count);
        var warning = Assert.Single(Lines(warnings));
        Assert.StartsWith("Warning: schema public grants CREATE to PUBLIC ", warning, StringComparison.Ordinal);
        Assert.Contains($"`{RevokeFromPublic}`", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(Lines(log), line => line.StartsWith("Warning: ", StringComparison.Ordinal));

        // And status, verify and down say it too, once each
        await migrator.StatusAsync(Token);
        Assert.True((await migrator.VerifyAsync(Token)).Matches);
        await migrator.DownAsync(0, Token);
        Assert.Equal(4, Lines(warnings).Count(line => line.Contains(RevokeFromPublic, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CreateGrantedToAnotherRoleIsWarnedNamingThatRole()
    {
        // Given a database whose public schema grants CREATE to the migrator and to one other role, not to PUBLIC
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_acl");
        var planter = RoleDatabase.RoleOf(await database.AddRoleAsync("coderd_planter"));
        await RoleDatabase.ExecuteAsync(database.AdminConnectionString, $"""
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            GRANT CREATE ON SCHEMA public TO {database.Owner};
            GRANT CREATE ON SCHEMA public TO {planter};
            """);
        var (migrator, warnings, _) = Migrator(database.ConnectionString);

        // When the migrator migrates it
        await migrator.UpAsync(cancellationToken: Token);

        // Then the one warning names that role (not the migrator, not PUBLIC) and the REVOKE from it
        var warning = Assert.Single(Lines(warnings));
        Assert.StartsWith($"Warning: schema public grants CREATE to {planter} ", warning, StringComparison.Ordinal);
        Assert.Contains($"`REVOKE CREATE ON SCHEMA public FROM {planter};`", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("PUBLIC,", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(database.Owner, warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateGrantedOnlyToTheMigratorAndSuperusersIsNotWarned()
    {
        // Given a database whose public schema grants CREATE to nobody but its owner, the migrator and a superuser
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_acl");
        var superuser = RoleDatabase.RoleOf(await database.AddRoleAsync("coderd_super"));
        await RoleDatabase.ExecuteAsync(database.AdminConnectionString, $"""
            ALTER ROLE {superuser} SUPERUSER;
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            GRANT CREATE ON SCHEMA public TO {database.Owner};
            GRANT CREATE ON SCHEMA public TO {superuser};
            """);
        var (migrator, warnings, _) = Migrator(database.ConnectionString);

        // When the migrator migrates it and reads its status
        var applied = await migrator.UpAsync(cancellationToken: Token);
        await migrator.StatusAsync(Token);

        // Then it applied everything without a warning
        Assert.Equal(History.Count, applied.Count);
        Assert.Empty(Lines(warnings));
    }

    private static (SchemaMigrator Migrator, StringWriter Warnings, StringWriter Log) Migrator(string connectionString)
    {
        var warnings = new StringWriter();
        var log = new StringWriter();
        var migrator = new SchemaMigrator(new MigratorOptions
        {
            ConnectionString = connectionString,
            Log = TextWriter.Synchronized(log),
            Warnings = TextWriter.Synchronized(warnings),
        });
        return (migrator, warnings, log);
    }

    private static string[] Lines(StringWriter writer) => writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

using Coderd.Database.Migrations;
using Npgsql;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// A role with nothing but CREATE on the database makes a schema named after the migrator's role,
/// which the default <c>search_path</c> (<c>"$user", public</c>) puts first, and fills it with
/// look-alikes. The runner pins <c>search_path = pg_catalog, public</c> in every transaction and
/// qualifies what it names, so none of them is read, bound or run; nor does a connection's own
/// <c>search_path</c> option change what <c>status</c> or <c>up</c> see.
/// </summary>
public sealed class SearchPathHijackTests(PostgresFixture postgres)
{
    private static readonly long[] Versions = [.. History.Select(m => m.Version)];

    [Fact]
    public async Task FakeVersionTableInTheMigratorsSchemaFoolsNeitherStatusNorUpAndItsTriggerNeverRuns()
    {
        // Given a database owned by the migrator, and another role that may create schemas in it
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_victim");
        var mallory = await AddIntruderAsync(database);
        var intruder = RoleDatabase.RoleOf(mallory);

        // And in a schema named after the migrator, a version table claiming the first 7 migrations,
        // with a trigger that would run as the migrator on each insert and hand her every table
        await RoleDatabase.ExecuteAsync(mallory, $"""
            CREATE SCHEMA {database.Owner};
            GRANT USAGE, CREATE ON SCHEMA {database.Owner} TO {database.Owner};
            CREATE TABLE {database.Owner}.schema_version (version bigint PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO {database.Owner}.schema_version (version, description) SELECT v, 'fake' FROM unnest(ARRAY[{string.Join(", ", Versions.Take(7))}]::bigint[]) v;
            CREATE TABLE {database.Owner}.loot (who text);
            GRANT SELECT, INSERT, UPDATE, DELETE ON {database.Owner}.schema_version TO {database.Owner};
            GRANT INSERT ON {database.Owner}.loot TO {database.Owner};
            CREATE FUNCTION {database.Owner}.steal() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {database.Owner}.loot VALUES (current_user);
                EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO {intruder}';
                RETURN NEW;
            END $$;
            CREATE TRIGGER steal AFTER INSERT ON {database.Owner}.schema_version FOR EACH ROW EXECUTE FUNCTION {database.Owner}.steal();
            """);
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database.ConnectionString });

        // When the migrator asks for the status, then migrates
        var before = await migrator.StatusAsync(Token);
        var applied = await migrator.UpAsync(cancellationToken: Token);

        // Then status saw nothing applied, up applied everything into public, and her table and trigger were never touched
        Assert.Equal(Versions, before.Pending.Select(m => m.Version));
        Assert.Equal(Versions, applied.Select(m => m.Version));
        Assert.Equal(Versions.Length, await RoleDatabase.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM public.schema_version"));
        Assert.Equal(7L, await RoleDatabase.ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM {database.Owner}.schema_version"));
        Assert.Equal(0L, await RoleDatabase.ScalarAsync<long>(mallory, $"SELECT count(*) FROM {database.Owner}.loot"));
        Assert.False(await RoleDatabase.ScalarAsync<bool>(database.AdminConnectionString, $"SELECT has_table_privilege('{intruder}', 'public.users', 'SELECT')"));
        Assert.Equal(Versions, (await migrator.StatusAsync(Token)).Migrations.Where(m => m.AppliedAt is not null).Select(m => m.Version));
    }

    [Fact]
    public async Task LookAlikeTypesTablesAndFunctionsInTheMigratorsSchemaAreNeverBound()
    {
        // Given the same intruder's schema, holding an array_length(text[], integer) (a closer match
        // than pg_catalog's anyarray one, so it would win any lookup that reaches her schema), a
        // users table a REFERENCES users(id) would bind to, and an enum named like one of the schema's
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_victim");
        var mallory = await AddIntruderAsync(database);
        await RoleDatabase.ExecuteAsync(mallory, $"""
            CREATE SCHEMA {database.Owner};
            GRANT USAGE, CREATE ON SCHEMA {database.Owner} TO {database.Owner};
            CREATE TABLE {database.Owner}.loot (who text);
            GRANT INSERT ON {database.Owner}.loot TO PUBLIC;
            CREATE FUNCTION {database.Owner}.array_length(text[], integer) RETURNS integer LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {database.Owner}.loot VALUES (current_user);
                RETURN 1;
            END $$;
            CREATE TABLE {database.Owner}.users (id uuid PRIMARY KEY);
            GRANT REFERENCES ON {database.Owner}.users TO {database.Owner};
            CREATE TYPE {database.Owner}.workspace_transition AS ENUM ('start', 'stop', 'delete');
            """);
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database.ConnectionString });

        // When the migrator migrates
        await migrator.UpAsync(cancellationToken: Token);

        // Then the schema is exactly the one this build makes (a constraint, default or column bound
        // to her objects would render schema-qualified), and nothing outside her schema depends on them
        var verification = await migrator.VerifyAsync(Token);
        Assert.True(verification.Matches, string.Join("\n", verification.Differences));
        Assert.Empty(await DependentsOutsideAsync(database.AdminConnectionString, database.Owner));
        Assert.Equal(0L, await RoleDatabase.ScalarAsync<long>(mallory, $"SELECT count(*) FROM {database.Owner}.loot"));
    }

    [Theory]
    [InlineData("-c search_path=nosuch")]
    [InlineData("-c search_path=pg_catalog")]
    public async Task SearchPathGivenByTheConnectionChangesNeitherUpNorStatus(string options)
    {
        // Given a connection whose options set another search path
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_options");
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Options = options }.ConnectionString;
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = connection });

        // When up migrates through it, and status reads through it
        var applied = await migrator.UpAsync(cancellationToken: Token);
        var status = await migrator.StatusAsync(Token);

        // Then everything went to public and status sees all of it applied
        Assert.Equal(Versions, applied.Select(m => m.Version));
        Assert.Empty(status.Pending);
        Assert.True((await new SchemaMigrator(new MigratorOptions { ConnectionString = database.ConnectionString }).VerifyAsync(Token)).Matches);
    }

    /// <summary>A role with CREATE on the database and nothing else; returns its connection string.</summary>
    private static async Task<string> AddIntruderAsync(RoleDatabase database)
    {
        var intruder = await database.AddRoleAsync("coderd_intruder");
        await RoleDatabase.ExecuteAsync(database.AdminConnectionString, $"GRANT CREATE ON DATABASE {database.Name} TO {RoleDatabase.RoleOf(intruder)}");
        return intruder;
    }

    /// <summary>Objects outside <paramref name="schema"/> (and its tables' TOAST tables) that depend on a type, function or relation in it.</summary>
    private static async Task<List<string>> DependentsOutsideAsync(string connectionString, string schema)
    {
        await using var connection = await OpenAsync(connectionString);
        return await ListAsync(connection, $"""
            WITH hers AS (
                SELECT oid FROM pg_type WHERE typnamespace = '{schema}'::regnamespace
                UNION ALL SELECT oid FROM pg_proc WHERE pronamespace = '{schema}'::regnamespace
                UNION ALL SELECT oid FROM pg_class WHERE relnamespace = '{schema}'::regnamespace)
            SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
            FROM pg_depend d
            WHERE d.refobjid IN (SELECT oid FROM hers)
              AND coalesce(CASE d.classid
                    WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objid)
                    WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objid)
                    WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objid)
                    WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = d.objid)
                    WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid)
                    WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid)
                    WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid)
                  END, 0) NOT IN ('{schema}'::regnamespace, 'pg_toast'::regnamespace)
            """);
    }
}

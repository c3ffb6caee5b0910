using Coderd.Database.Migrations;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// <see cref="SchemaSnapshot.ReadAsync(string, CancellationToken)"/> on a database built by hand
/// with one object of every kind it reads and several it must leave out, whatever the session
/// settings the database imposes.
/// </summary>
public sealed class SchemaSnapshotReaderTests(PostgresFixture postgres) : IAsyncDisposable
{
    private const string Ddl = """
        CREATE TYPE mood AS ENUM ('sad', 'ok');
        ALTER TYPE mood ADD VALUE 'happy' BEFORE 'ok';
        CREATE TYPE pair AS (a integer, b text);
        CREATE DOMAIN positive AS bigint CHECK (VALUE > 0);
        CREATE TYPE span AS RANGE (subtype = integer);
        CREATE SEQUENCE free_seq AS integer START WITH 5 INCREMENT BY 2;
        CREATE TABLE parent (id bigserial PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x', at timestamptz DEFAULT '2020-01-01 00:00:00+00', gone int, m mood);
        ALTER TABLE parent DROP COLUMN gone;
        CREATE TABLE child (
            id int GENERATED ALWAYS AS IDENTITY,
            parent_id bigint REFERENCES parent (id) ON DELETE RESTRICT,
            doubled bigint GENERATED ALWAYS AS (parent_id * 2) STORED,
            p positive,
            CONSTRAINT child_pkey PRIMARY KEY (id),
            CONSTRAINT child_unique UNIQUE (parent_id, p));
        ALTER TABLE child ADD CONSTRAINT child_p_check CHECK (p < 100) NOT VALID;
        CREATE INDEX child_doubled_idx ON child (doubled DESC) WHERE doubled > 0;
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
        CREATE FUNCTION add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
        CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1';
        CREATE TRIGGER child_touch BEFORE UPDATE OF p ON child FOR EACH ROW WHEN (OLD.p IS DISTINCT FROM NEW.p) EXECUTE FUNCTION touch();
        CREATE VIEW parent_names AS SELECT id, name::text AS name FROM parent;
        CREATE MATERIALIZED VIEW child_counts AS SELECT parent_id, count(*) AS n FROM child GROUP BY parent_id;
        CREATE TABLE schema_version (version bigint NOT NULL PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
        CREATE SCHEMA other;
        CREATE TABLE other.hidden (id int PRIMARY KEY);
        CREATE TYPE other.hidden_mood AS ENUM ('x');
        """;

    // Identical on PostgreSQL 13, 15 and 18: 18's NOT NULL rows, the range's constructor functions and
    // (from 14 on) its multirange type are not in it.
    private const string Expected = """
        {
          "types": [
            {"name":"mood","kind":"enum","labels":["sad","happy","ok"]},
            {"name":"pair","kind":"composite","fields":[["a","integer"],["b","text"]]},
            {"name":"positive","kind":"domain","base":"bigint"},
            {"name":"span","kind":"range","base":"integer"}
          ],
          "sequences": [
            {"name":"child_id_seq","type":"integer","start":1,"increment":1,"owned_by":"child.id"},
            {"name":"free_seq","type":"integer","start":5,"increment":2},
            {"name":"parent_id_seq","type":"bigint","start":1,"increment":1,"owned_by":"parent.id"}
          ],
          "tables": [
            {
              "name": "child",
              "columns": [
                {"name":"id","type":"integer","not_null":true},
                {"name":"parent_id","type":"bigint","not_null":false},
                {"name":"doubled","type":"bigint","not_null":false,"generated":"(parent_id * 2)"},
                {"name":"p","type":"positive","not_null":false}
              ],
              "constraints": [
                {"name":"child_p_check","type":"c","def":"CHECK (((p)::bigint < 100)) NOT VALID"},
                {"name":"child_parent_id_fkey","type":"f","def":"FOREIGN KEY (parent_id) REFERENCES parent(id) ON DELETE RESTRICT"},
                {"name":"child_pkey","type":"p","def":"PRIMARY KEY (id)"},
                {"name":"child_unique","type":"u","def":"UNIQUE (parent_id, p)"}
              ],
              "indexes": [
                {"name":"child_doubled_idx","def":"CREATE INDEX child_doubled_idx ON child USING btree (doubled DESC) WHERE (doubled > 0)"}
              ],
              "triggers": [
                {"name":"child_touch","def":"CREATE TRIGGER child_touch BEFORE UPDATE OF p ON child FOR EACH ROW WHEN (((old.p)::bigint IS DISTINCT FROM (new.p)::bigint)) EXECUTE FUNCTION touch()"}
              ]
            },
            {
              "name": "parent",
              "columns": [
                {"name":"id","type":"bigint","not_null":true,"default":"nextval('parent_id_seq'::regclass)"},
                {"name":"name","type":"character varying(20)","not_null":true,"default":"'x'::character varying"},
                {"name":"at","type":"timestamp with time zone","not_null":false,"default":"'2020-01-01 00:00:00+00'::timestamp with time zone"},
                {"name":"m","type":"mood","not_null":false}
              ],
              "constraints": [
                {"name":"parent_pkey","type":"p","def":"PRIMARY KEY (id)"}
              ],
              "indexes": [],
              "triggers": []
            }
          ],
          "views": [
            {
              "name": "child_counts",
              "kind": "m",
              "columns": [
                ["parent_id","bigint"],
                ["n","bigint"]
              ]
            },
            {
              "name": "parent_names",
              "kind": "v",
              "columns": [
                ["id","bigint"],
                ["name","text"]
              ]
            }
          ],
          "functions": [
            {"name":"add","args":"a integer, b integer DEFAULT 1","result":"integer","language":"sql","volatility":"i"},
            {"name":"noop","args":"","language":"sql","volatility":"v"},
            {"name":"touch","args":"","result":"trigger","language":"plpgsql","volatility":"v"}
          ]
        }

        """;

    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task EveryKindOfObjectIsReadAsTheSpecRendersIt()
    {
        // Given a database with one object of each kind, whose sessions default to another time zone
        // and a search path that hides public
        var (connectionString, _) = await _databases.CreateAsync();
        await using (var connection = await OpenAsync(connectionString))
        {
            await ExecuteAsync(connection, Ddl);
            var database = DatabaseName(connectionString);
            await ExecuteAsync(connection, $"ALTER DATABASE {database} SET TimeZone = 'Asia/Tokyo'; ALTER DATABASE {database} SET search_path = other");
        }

        // When its snapshot is read
        var snapshot = await SchemaAssert.SnapshotAsync(connectionString);

        // Then it holds exactly the public schema's facts, rendered in UTC without the public. prefix,
        // and without the runner's table, other schemas, array, row and multirange types
        Assert.Equal(Expected, snapshot.ToJson());
    }

    [Fact]
    public async Task AnEmptyDatabaseHasAnEmptySnapshot()
    {
        var (connectionString, _) = await _databases.CreateAsync();

        var snapshot = await SchemaAssert.SnapshotAsync(connectionString);

        Assert.Equal("{\n  \"types\": [],\n  \"sequences\": [],\n  \"tables\": [],\n  \"views\": [],\n  \"functions\": []\n}\n", snapshot.ToJson());
    }

    private static string DatabaseName(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;
}

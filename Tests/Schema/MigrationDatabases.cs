using Coderd.Database.Migrations;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Empty databases for one test class that runs migrations itself, dropped with the class; and the
/// few SQL helpers such tests need. Sessions are unpooled and in UTC.
/// </summary>
internal sealed class MigrationDatabases(PostgresFixture postgres) : IAsyncDisposable
{
    private readonly List<string> _created = [];

    public static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The migrations of this build, without a database.</summary>
    public static IReadOnlyList<MigrationInfo> History => MigrationInfo.All;

    /// <summary>A new empty database and a migrator for it.</summary>
    public async Task<(string ConnectionString, SchemaMigrator Migrator)> CreateAsync()
    {
        var connectionString = await postgres.CreateEmptyDatabaseAsync("coderd_migrate", Token);
        _created.Add(connectionString);
        return (connectionString, new SchemaMigrator(new MigratorOptions { ConnectionString = connectionString }));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connectionString in _created) await postgres.DropDatabaseAsync(connectionString);
    }

    public static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Timezone = "UTC", Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(Token);
        return connection;
    }

    public static Task ExecuteAsync(NpgsqlConnection connection, string sql) => Sql.ExecuteAsync(connection, sql, Token);

    /// <summary>The first column of every row, as text.</summary>
    public static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql)
    {
        var values = new List<string>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(Token);
        while (await reader.ReadAsync(Token)) values.Add(reader.GetString(0));
        return values;
    }
}

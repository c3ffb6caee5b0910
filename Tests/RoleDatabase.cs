using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests;

/// <summary>
/// An empty database owned by a login role of its own that is no superuser, as in production, plus
/// any other _roles a test needs (each with a password and a connection string to this database).
/// Disposing drops the database and the _roles.
/// </summary>
internal sealed class RoleDatabase : IAsyncDisposable
{
    private readonly PostgresFixture _postgres;
    private readonly string _admin;
    private readonly List<string> _roles = [];

    private RoleDatabase(PostgresFixture postgres, string admin, string name)
    {
        _postgres = postgres;
        _admin = admin;
        Name = name;
        AdminConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = name, Pooling = false }.ConnectionString;
    }

    /// <summary>The database's name (also its owner's).</summary>
    public string Name { get; }

    /// <summary>The owner: the role a deployment job migrates as.</summary>
    public string Owner => Name;

    /// <summary>Connection string of the owner; holds its password.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Connection string of the server's superuser, to this database.</summary>
    public string AdminConnectionString { get; }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Creates the owner role and its database; <paramref name="prefix"/> starts both names (a-z, 0-9, _).</summary>
    public static async Task<RoleDatabase> CreateAsync(PostgresFixture postgres, string prefix)
    {
        var admin = await postgres.CreateEmptyDatabaseAsync("coderd_admin", Token);
        var name = $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 11)];
        var database = new RoleDatabase(postgres, admin, name);
        var owner = await database.AddRoleAsync(name, exactName: true);
        await ExecuteAsync(admin, $"CREATE DATABASE {name} OWNER {name}");
        database.ConnectionString = owner;
        return database;
    }

    /// <summary>Creates a login role (no superuser, no CREATEDB, no CREATEROLE); returns its connection string to this database.</summary>
    public Task<string> AddRoleAsync(string prefix) => AddRoleAsync(prefix, exactName: false);

    /// <summary>The role name in a connection string made by this class.</summary>
    public static string RoleOf(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Username!;

    public static Task ExecuteAsync(string connectionString, string sql) => Sql.ExecuteAsync(connectionString, sql, Token);

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql) => (await Sql.ScalarAsync<T>(connectionString, sql, Token))!;

    public async ValueTask DisposeAsync()
    {
        await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        foreach (var role in _roles) await ExecuteAsync(_admin, $"DROP ROLE IF EXISTS {role}");
        await _postgres.DropDatabaseAsync(_admin);
    }

    private async Task<string> AddRoleAsync(string prefix, bool exactName)
    {
        var role = exactName ? prefix : $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 11)];
        var password = $"pw-{Guid.NewGuid():N}";
        await ExecuteAsync(_admin, $"CREATE ROLE {role} LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE");
        _roles.Add(role);
        return new NpgsqlConnectionStringBuilder(_admin) { Database = Name, Username = role, Password = password, Pooling = false }.ConnectionString;
    }
}

using Npgsql;

namespace Coderd.Database.Tests.Support;

/// <summary>One statement on a connection of its own, closed right after: what setup and assertions need.</summary>
public static class Sql
{
    /// <summary>The first column of the first row, or <c>default</c> for no row or NULL; throws if it is not a <typeparamref name="T"/>.</summary>
    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? (T)value : default;
    }

    /// <summary>Runs <paramref name="sql"/> (any number of statements) with no time limit.</summary>
    public static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

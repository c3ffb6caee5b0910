using Npgsql;

namespace Coderd.Database.Tests.Support;

/// <summary>One statement, on a connection of its own closed right after or on the caller's: what setup and assertions need.</summary>
public static class Sql
{
    /// <summary>The first column of the first row, or <c>default</c> for no row or NULL; throws if it is not a <typeparamref name="T"/>.</summary>
    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ScalarAsync<T>(connection, sql, cancellationToken);
    }

    /// <summary>As <see cref="ScalarAsync{T}(string, string, CancellationToken)"/>, on an open connection (in its transaction, if one is open).</summary>
    public static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken = default)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? (T)value : default;
    }

    /// <summary>Runs <paramref name="sql"/> (any number of statements) with no time limit.</summary>
    public static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, sql, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteAsync(string, string, CancellationToken)"/>, on an open connection (in its transaction, if one is open).</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken = default)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

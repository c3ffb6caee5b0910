using Npgsql;

namespace Coderd.Database.Tests;

/// <summary>
/// A migrated database of one test class's own: a clone of the run's migrated template, so classes
/// running in parallel never see each other's rows. Call <see cref="ResetAsync"/> before each test
/// (from the class's <c>InitializeAsync</c>) to empty it again.
/// </summary>
/// <example>
/// <code>
/// public sealed class ChatTests(MigratedDatabase database) : IClassFixture&lt;MigratedDatabase&gt;, IAsyncLifetime
/// {
///     public async ValueTask InitializeAsync() => await database.ResetAsync();
///     public ValueTask DisposeAsync() => ValueTask.CompletedTask;
/// }
/// </code>
/// </example>
public sealed class MigratedDatabase(PostgresFixture postgres) : IAsyncLifetime
{
    private string? _connectionString;

    /// <summary>Connection string of this class's database; contains the password.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException(
        "MigratedDatabase is used before xunit initialized it; take it as a constructor parameter of a class marked IClassFixture<MigratedDatabase>.");

    /// <inheritdoc />
    public async ValueTask InitializeAsync() =>
        _connectionString = await postgres.CreateMigratedDatabaseAsync("coderd_class", TestContext.Current.CancellationToken);

    /// <summary>
    /// Deletes every row but the version table's and puts back the <c>chat_usage_limit_config</c>
    /// row the migrations insert: the state right after migrating.
    /// </summary>
    public Task ResetAsync() => postgres.ResetAsync(ConnectionString, TestContext.Current.CancellationToken);

    /// <summary>Opens a (pooled) connection to this class's database; the caller disposes it.</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return connection;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_connectionString is not null) await postgres.DropDatabaseAsync(_connectionString);
    }
}

using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Coderd.Database.Bench;

/// <summary>
/// The application's side of the migration benchmarks: rows in <c>chats</c>, and writers that
/// keep inserting and updating chats while a migration runs.
/// </summary>
internal static class ChatsWorkload
{
    private const string Owner = "00000000-0000-0000-0000-000000000001";
    private const string ModelConfig = "00000000-0000-0000-0000-000000000002";

    /// <summary>SQL that adds an owner, a model config, one chat per writer (see <see cref="WriterSql"/>) and <paramref name="chats"/> more.</summary>
    public static string SeedSql(int chats, int writers) => string.Create(CultureInfo.InvariantCulture, $"""
        SET session_replication_role = replica; -- rows are valid by construction; skip per-row FK triggers
        INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
            VALUES ('{Owner}', 'owner@example.com', 'owner', '\x00', now(), now());
        INSERT INTO chat_providers (provider) VALUES ('openai');
        INSERT INTO chat_model_configs (id, provider, model, context_limit, compression_threshold)
            VALUES ('{ModelConfig}', 'openai', 'gpt', 1000, 50);
        INSERT INTO chats (id, owner_id, last_model_config_id, title) VALUES
            {string.Join(",\n    ", Enumerable.Range(0, writers).Select(w => $"('{WriterChat(w)}', '{Owner}', '{ModelConfig}', 'updated by writer {w}')"))};
        INSERT INTO chats (owner_id, last_model_config_id, title)
            SELECT '{Owner}', '{ModelConfig}', 'chat ' || g FROM generate_series(1, {chats}) g;
        """);

    /// <summary>One statement: insert a chat, and update writer <paramref name="writer"/>'s own chat (its own row, so writers never wait for each other).</summary>
    public static string WriterSql(int writer) => $"""
        WITH c AS (INSERT INTO chats (owner_id, last_model_config_id) VALUES ('{Owner}', '{ModelConfig}') RETURNING id)
        UPDATE chats SET title = 'renamed', updated_at = now() WHERE id = '{WriterChat(writer)}'
        """;

    private static string WriterChat(int writer) => string.Create(CultureInfo.InvariantCulture, $"00000000-0000-0000-0001-{writer:x12}");
}

/// <summary>
/// A session running one write statement in a loop, recording the slowest execution: the stall a
/// migration's lock caused. The loop is bounded: it stops when asked or after <c>maxDuration</c>.
/// </summary>
internal sealed class Writer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task<double> _loop;

    private Writer(string connectionString, string sql, TimeSpan maxDuration)
    {
        _stop = new CancellationTokenSource(maxDuration);
        _loop = Task.Run(() => LoopAsync(connectionString, sql));
    }

    public static Writer Start(string connectionString, string sql, TimeSpan? maxDuration = null) =>
        new(connectionString, sql, maxDuration ?? TimeSpan.FromMinutes(2));

    /// <summary>Stops the loop; returns the slowest statement in ms.</summary>
    public async Task<double> StopAsync()
    {
        await _stop.CancelAsync();
        return await _loop;
    }

    private async Task<double> LoopAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.PrepareAsync();
        var slowest = 0.0;
        while (!_stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            await command.ExecuteNonQueryAsync();
            slowest = Math.Max(slowest, watch.Elapsed.TotalMilliseconds);
            await Task.Delay(5);
        }

        return slowest;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}

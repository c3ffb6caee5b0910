using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// A second session that LISTENs on some channels and collects what arrives. To know that everything
/// sent so far has arrived without sleeping, <see cref="CollectAsync"/> sends a marker of its own and
/// waits for it: PostgreSQL delivers notifications in commit order.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _markerChannel;
    private readonly List<(string Channel, string Payload)> _received = [];

    private Listener(NpgsqlConnection connection, string markerChannel)
    {
        _connection = connection;
        _markerChannel = markerChannel;
        connection.Notification += (_, e) => _received.Add((e.Channel, e.Payload));
    }

    public static async Task<Listener> StartAsync(MigratedDatabase database, params string[] channels)
    {
        var listener = new Listener(await database.OpenAsync(), channels[0]);
        foreach (var channel in channels)
        {
            await using var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", listener._connection);
            await listen.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        return listener;
    }

    /// <summary>
    /// Everything that arrived since the last call, in arrival order, once every transaction
    /// <paramref name="sender"/> committed before this call has been delivered.
    /// </summary>
    public async Task<IReadOnlyList<(string Channel, string Payload)>> CollectAsync(NpgsqlConnection sender)
    {
        var marker = $"marker-{Guid.NewGuid()}";
        await using (var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @marker)", sender))
        {
            notify.Parameters.AddWithValue("channel", _markerChannel);
            notify.Parameters.AddWithValue("marker", marker);
            await notify.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        while (!_received.Contains((_markerChannel, marker)))
        {
            Assert.True(
                await _connection.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken),
                $"The marker notification on {_markerChannel} did not arrive within 30 s.");
        }

        var collected = _received.TakeWhile(n => n != (_markerChannel, marker)).ToList();
        _received.Clear();
        return collected;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

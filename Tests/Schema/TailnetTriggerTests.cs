using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The notifications of <see cref="M2026_02_16_0006_AddTailnetNotifications"/>, received by a second
/// session that LISTENs (behavior.md 2.15 to 2.17).
/// </summary>
public sealed class TailnetTriggerTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private const string Heartbeat = "tailnet_coordinator_heartbeat";
    private const string PeerUpdate = "tailnet_peer_update";
    private const string TunnelUpdate = "tailnet_tunnel_update";

    private NpgsqlConnection connection = null!;
    private Rows rows = null!;
    private Listener listener = null!;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        connection = await database.OpenAsync();
        rows = new Rows(connection);
        listener = await Listener.StartAsync(database, Heartbeat, PeerUpdate, TunnelUpdate);
    }

    public async ValueTask DisposeAsync()
    {
        await listener.DisposeAsync();
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task CoordinatorInsertAndUpdateSendItsIdAndDeleteSendsNothing()
    {
        var coordinator = Guid.NewGuid();

        await CoordinatorAsync(coordinator);
        await rows.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now() WHERE id = @id", ("id", coordinator));
        await rows.ExecuteAsync("DELETE FROM tailnet_coordinators WHERE id = @id", ("id", coordinator));

        Assert.Equal([(Heartbeat, $"{coordinator}"), (Heartbeat, $"{coordinator}")], await listener.CollectAsync(connection));
    }

    [Fact]
    public async Task PeerInsertSendsNewIdAndUpdateAndDeleteSendTheOldId()
    {
        var coordinator = await CoordinatorAsync();
        await listener.CollectAsync(connection);
        var (peer, renamed) = (Guid.NewGuid(), Guid.NewGuid());

        await PeerAsync(peer, coordinator);
        await rows.ExecuteAsync("UPDATE tailnet_peers SET id = @renamed WHERE id = @peer", ("renamed", renamed), ("peer", peer));
        await rows.ExecuteAsync("DELETE FROM tailnet_peers WHERE id = @renamed", ("renamed", renamed));

        Assert.Equal([(PeerUpdate, $"{peer}"), (PeerUpdate, $"{peer}"), (PeerUpdate, $"{renamed}")], await listener.CollectAsync(connection));
    }

    [Fact]
    public async Task TunnelInsertAndUpdateSendNewEndsAndDeleteSendsOldEnds()
    {
        var coordinator = await CoordinatorAsync();
        await listener.CollectAsync(connection);
        var (src, dst, moved) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        await TunnelAsync(coordinator, src, dst);
        await rows.ExecuteAsync("UPDATE tailnet_tunnels SET dst_id = @moved", ("moved", moved));
        await rows.ExecuteAsync("DELETE FROM tailnet_tunnels");

        Assert.Equal(
            [(TunnelUpdate, $"{src},{dst}"), (TunnelUpdate, $"{src},{moved}"), (TunnelUpdate, $"{src},{moved}")],
            await listener.CollectAsync(connection));
    }

    [Fact]
    public async Task RolledBackTransactionSendsNothing()
    {
        var coordinator = await CoordinatorAsync();
        await listener.CollectAsync(connection);

        await using (var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await PeerAsync(Guid.NewGuid(), coordinator);
            await TunnelAsync(coordinator, Guid.NewGuid(), Guid.NewGuid());
            await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        }

        Assert.Empty(await listener.CollectAsync(connection));
    }

    [Fact]
    public async Task IdenticalNotificationsOfOneTransactionArriveOnce()
    {
        var coordinator = Guid.NewGuid();

        await using (var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await CoordinatorAsync(coordinator);
            await rows.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now()");
            await rows.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now()");
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal([(Heartbeat, $"{coordinator}")], await listener.CollectAsync(connection));
    }

    [Fact]
    public async Task DeletingCoordinatorNotifiesEachCascadedPeerAndTunnel()
    {
        var coordinator = await CoordinatorAsync();
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        await PeerAsync(first, coordinator);
        await PeerAsync(second, coordinator);
        await TunnelAsync(coordinator, first, second);
        await listener.CollectAsync(connection);

        await rows.ExecuteAsync("DELETE FROM tailnet_coordinators WHERE id = @id", ("id", coordinator));

        Assert.Equal(
            new[] { (PeerUpdate, $"{first}"), (PeerUpdate, $"{second}"), (TunnelUpdate, $"{first},{second}") }.Order(),
            (await listener.CollectAsync(connection)).Order());
    }

    private async Task<Guid> CoordinatorAsync(Guid? id = null)
    {
        var coordinator = id ?? Guid.NewGuid();
        await rows.ExecuteAsync("INSERT INTO tailnet_coordinators (id, heartbeat_at) VALUES (@id, now())", ("id", coordinator));
        return coordinator;
    }

    private Task PeerAsync(Guid id, Guid coordinator) => rows.ExecuteAsync(
        "INSERT INTO tailnet_peers (id, coordinator_id, updated_at, node) VALUES (@id, @coordinator, now(), '\\x01')",
        ("id", id), ("coordinator", coordinator));

    private Task TunnelAsync(Guid coordinator, Guid src, Guid dst) => rows.ExecuteAsync(
        "INSERT INTO tailnet_tunnels (coordinator_id, src_id, dst_id, updated_at) VALUES (@coordinator, @src, @dst, now())",
        ("coordinator", coordinator), ("src", src), ("dst", dst));
}

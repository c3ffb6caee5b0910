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

    private RowBuilder builder = null!;
    private Listener listener = null!;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        builder = await RowBuilder.OpenAsync(database);
        listener = await Listener.StartAsync(database, Heartbeat, PeerUpdate, TunnelUpdate);
    }

    public async ValueTask DisposeAsync()
    {
        await listener.DisposeAsync();
        await builder.DisposeAsync();
    }

    [Fact]
    public async Task CoordinatorInsertAndUpdateSendItsIdAndDeleteSendsNothing()
    {
        var coordinator = Guid.NewGuid();

        await CoordinatorAsync(coordinator);
        await builder.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now() WHERE id = @id", ("id", coordinator));
        await builder.ExecuteAsync("DELETE FROM tailnet_coordinators WHERE id = @id", ("id", coordinator));

        Assert.Equal([(Heartbeat, $"{coordinator}"), (Heartbeat, $"{coordinator}")], await listener.CollectAsync(builder.Connection));
    }

    [Fact]
    public async Task PeerInsertSendsNewIdAndUpdateAndDeleteSendTheOldId()
    {
        var coordinator = await CoordinatorAsync();
        await listener.CollectAsync(builder.Connection);
        var (peer, renamed) = (Guid.NewGuid(), Guid.NewGuid());

        await PeerAsync(peer, coordinator);
        await builder.ExecuteAsync("UPDATE tailnet_peers SET id = @renamed WHERE id = @peer", ("renamed", renamed), ("peer", peer));
        await builder.ExecuteAsync("DELETE FROM tailnet_peers WHERE id = @renamed", ("renamed", renamed));

        Assert.Equal([(PeerUpdate, $"{peer}"), (PeerUpdate, $"{peer}"), (PeerUpdate, $"{renamed}")], await listener.CollectAsync(builder.Connection));
    }

    [Fact]
    public async Task TunnelInsertAndUpdateSendNewEndsAndDeleteSendsOldEnds()
    {
        var coordinator = await CoordinatorAsync();
        await listener.CollectAsync(builder.Connection);
        var (src, dst, moved) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        await TunnelAsync(coordinator, src, dst);
        await builder.ExecuteAsync("UPDATE tailnet_tunnels SET dst_id = @moved", ("moved", moved));
        await builder.ExecuteAsync("DELETE FROM tailnet_tunnels");

        Assert.Equal(
            [(TunnelUpdate, $"{src},{dst}"), (TunnelUpdate, $"{src},{moved}"), (TunnelUpdate, $"{src},{moved}")],
            await listener.CollectAsync(builder.Connection));
    }

    [Fact]
    public async Task RolledBackTransactionSendsNothing()
    {
        var coordinator = await CoordinatorAsync();
        await listener.CollectAsync(builder.Connection);

        await using (var transaction = await builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await PeerAsync(Guid.NewGuid(), coordinator);
            await TunnelAsync(coordinator, Guid.NewGuid(), Guid.NewGuid());
            await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        }

        Assert.Empty(await listener.CollectAsync(builder.Connection));
    }

    [Fact]
    public async Task IdenticalNotificationsOfOneTransactionArriveOnce()
    {
        var coordinator = Guid.NewGuid();

        await using (var transaction = await builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await CoordinatorAsync(coordinator);
            await builder.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now()");
            await builder.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now()");
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal([(Heartbeat, $"{coordinator}")], await listener.CollectAsync(builder.Connection));
    }

    [Fact]
    public async Task DeletingCoordinatorNotifiesEachCascadedPeerAndTunnel()
    {
        var coordinator = await CoordinatorAsync();
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        await PeerAsync(first, coordinator);
        await PeerAsync(second, coordinator);
        await TunnelAsync(coordinator, first, second);
        await listener.CollectAsync(builder.Connection);

        await builder.ExecuteAsync("DELETE FROM tailnet_coordinators WHERE id = @id", ("id", coordinator));

        Assert.Equal(
            new[] { (PeerUpdate, $"{first}"), (PeerUpdate, $"{second}"), (TunnelUpdate, $"{first},{second}") }.Order(),
            (await listener.CollectAsync(builder.Connection)).Order());
    }

    private Task<Guid> CoordinatorAsync(Guid? id = null) => builder.InsertIdAsync("tailnet_coordinators", ("id", id ?? Guid.NewGuid()));

    private Task PeerAsync(Guid id, Guid coordinator) => builder.InsertAsync("tailnet_peers", ("id", id), ("coordinator_id", coordinator));

    private Task TunnelAsync(Guid coordinator, Guid src, Guid dst) =>
        builder.InsertAsync("tailnet_tunnels", ("coordinator_id", coordinator), ("src_id", src), ("dst_id", dst));
}

using Coderd.Database.Migrations.Versions;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The notifications of <see cref="M2026_02_16_0006_AddTailnetNotifications"/>, received by a second
/// session that LISTENs (behavior.md 2.15 to 2.17).
/// </summary>
public sealed class TailnetTriggerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private const string Heartbeat = "tailnet_coordinator_heartbeat";
    private const string PeerUpdate = "tailnet_peer_update";
    private const string TunnelUpdate = "tailnet_tunnel_update";

    private Listener _listener = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _listener = await Listener.StartAsync(Database, Heartbeat, PeerUpdate, TunnelUpdate);
    }

    public override async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task CoordinatorInsertAndUpdateSendItsIdAndDeleteSendsNothing()
    {
        var coordinator = Guid.NewGuid();

        await CoordinatorAsync(coordinator);
        await Builder.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now() WHERE id = @id", ("id", coordinator));
        await Builder.ExecuteAsync("DELETE FROM tailnet_coordinators WHERE id = @id", ("id", coordinator));

        Assert.Equal([(Heartbeat, $"{coordinator}"), (Heartbeat, $"{coordinator}")], await _listener.CollectAsync(Builder.Connection));
    }

    [Fact]
    public async Task PeerInsertSendsNewIdAndUpdateAndDeleteSendTheOldId()
    {
        var coordinator = await CoordinatorAsync();
        await _listener.CollectAsync(Builder.Connection);
        var (peer, renamed) = (Guid.NewGuid(), Guid.NewGuid());

        await PeerAsync(peer, coordinator);
        await Builder.ExecuteAsync("UPDATE tailnet_peers SET id = @renamed WHERE id = @peer", ("renamed", renamed), ("peer", peer));
        await Builder.ExecuteAsync("DELETE FROM tailnet_peers WHERE id = @renamed", ("renamed", renamed));

        Assert.Equal([(PeerUpdate, $"{peer}"), (PeerUpdate, $"{peer}"), (PeerUpdate, $"{renamed}")], await _listener.CollectAsync(Builder.Connection));
    }

    [Fact]
    public async Task TunnelInsertAndUpdateSendNewEndsAndDeleteSendsOldEnds()
    {
        var coordinator = await CoordinatorAsync();
        await _listener.CollectAsync(Builder.Connection);
        var (src, dst, moved) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        await TunnelAsync(coordinator, src, dst);
        await Builder.ExecuteAsync("UPDATE tailnet_tunnels SET dst_id = @moved", ("moved", moved));
        await Builder.ExecuteAsync("DELETE FROM tailnet_tunnels");

        Assert.Equal(
            [(TunnelUpdate, $"{src},{dst}"), (TunnelUpdate, $"{src},{moved}"), (TunnelUpdate, $"{src},{moved}")],
            await _listener.CollectAsync(Builder.Connection));
    }

    [Fact]
    public async Task RolledBackTransactionSendsNothing()
    {
        var coordinator = await CoordinatorAsync();
        await _listener.CollectAsync(Builder.Connection);

        await using (var transaction = await Builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await PeerAsync(Guid.NewGuid(), coordinator);
            await TunnelAsync(coordinator, Guid.NewGuid(), Guid.NewGuid());
            await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        }

        Assert.Empty(await _listener.CollectAsync(Builder.Connection));
    }

    [Fact]
    public async Task IdenticalNotificationsOfOneTransactionArriveOnce()
    {
        var coordinator = Guid.NewGuid();

        await using (var transaction = await Builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await CoordinatorAsync(coordinator);
            await Builder.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now()");
            await Builder.ExecuteAsync("UPDATE tailnet_coordinators SET heartbeat_at = now()");
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal([(Heartbeat, $"{coordinator}")], await _listener.CollectAsync(Builder.Connection));
    }

    [Fact]
    public async Task DeletingCoordinatorNotifiesEachCascadedPeerAndTunnel()
    {
        var coordinator = await CoordinatorAsync();
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        await PeerAsync(first, coordinator);
        await PeerAsync(second, coordinator);
        await TunnelAsync(coordinator, first, second);
        await _listener.CollectAsync(Builder.Connection);

        await Builder.ExecuteAsync("DELETE FROM tailnet_coordinators WHERE id = @id", ("id", coordinator));

        Assert.Equal(
            new[] { (PeerUpdate, $"{first}"), (PeerUpdate, $"{second}"), (TunnelUpdate, $"{first},{second}") }.Order(),
            (await _listener.CollectAsync(Builder.Connection)).Order());
    }

    private Task<Guid> CoordinatorAsync(Guid? id = null) => Builder.InsertIdAsync("tailnet_coordinators", ("id", id ?? Guid.NewGuid()));

    private Task<Row> PeerAsync(Guid id, Guid coordinator) => Builder.InsertAsync("tailnet_peers", ("id", id), ("coordinator_id", coordinator));

    private Task<Row> TunnelAsync(Guid coordinator, Guid src, Guid dst) =>
        Builder.InsertAsync("tailnet_tunnels", ("coordinator_id", coordinator), ("src_id", src), ("dst_id", dst));
}

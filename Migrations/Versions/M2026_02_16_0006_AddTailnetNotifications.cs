using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// The tailnet coordinators' change feed: coordinator heartbeats, peer changes and tunnel changes
/// are sent with <c>NOTIFY</c> on <c>tailnet_coordinator_heartbeat</c>, <c>tailnet_peer_update</c>
/// and <c>tailnet_tunnel_update</c>, delivered when the transaction commits.
/// </summary>
/// <remarks>Every object the functions name is schema-qualified; see <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>.</remarks>
[Migration(2026_02_16_0006, "Add tailnet coordinator, peer and tunnel notification triggers")]
internal sealed class M2026_02_16_0006_AddTailnetNotifications : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Execute.Sql("""
            CREATE FUNCTION public.tailnet_notify_coordinator_heartbeat() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                PERFORM pg_notify('tailnet_coordinator_heartbeat', NEW.id::text);
                RETURN NULL;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER tailnet_notify_coordinator_heartbeat AFTER INSERT OR UPDATE ON public.tailnet_coordinators
                FOR EACH ROW EXECUTE FUNCTION public.tailnet_notify_coordinator_heartbeat()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.tailnet_notify_peer_change() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- An update names the peer as it was, so a changed id sends the old one.
                IF TG_OP = 'INSERT' THEN
                    PERFORM pg_notify('tailnet_peer_update', NEW.id::text);
                ELSE
                    PERFORM pg_notify('tailnet_peer_update', OLD.id::text);
                END IF;
                RETURN NULL;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER tailnet_notify_peer_change AFTER INSERT OR UPDATE OR DELETE ON public.tailnet_peers
                FOR EACH ROW EXECUTE FUNCTION public.tailnet_notify_peer_change()
            """);

        Execute.Sql("""
            CREATE FUNCTION public.tailnet_notify_tunnel_change() RETURNS trigger
                LANGUAGE plpgsql
            AS $$
            BEGIN
                -- Unlike peers, an update names the tunnel as it is now.
                IF TG_OP = 'DELETE' THEN
                    PERFORM pg_notify('tailnet_tunnel_update', OLD.src_id::text || ',' || OLD.dst_id::text);
                ELSE
                    PERFORM pg_notify('tailnet_tunnel_update', NEW.src_id::text || ',' || NEW.dst_id::text);
                END IF;
                RETURN NULL;
            END;
            $$
            """);
        Execute.Sql("""
            CREATE TRIGGER tailnet_notify_tunnel_change AFTER INSERT OR UPDATE OR DELETE ON public.tailnet_tunnels
                FOR EACH ROW EXECUTE FUNCTION public.tailnet_notify_tunnel_change()
            """);
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Execute.Sql("DROP TRIGGER tailnet_notify_tunnel_change ON public.tailnet_tunnels");
        Execute.Sql("DROP FUNCTION public.tailnet_notify_tunnel_change()");
        Execute.Sql("DROP TRIGGER tailnet_notify_peer_change ON public.tailnet_peers");
        Execute.Sql("DROP FUNCTION public.tailnet_notify_peer_change()");
        Execute.Sql("DROP TRIGGER tailnet_notify_coordinator_heartbeat ON public.tailnet_coordinators");
        Execute.Sql("DROP FUNCTION public.tailnet_notify_coordinator_heartbeat()");
    }
}

using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Coordination between coderd replicas: tailnet coordinators, peers and tunnels, the replica
/// registry, and the deployment-wide site settings and licenses.
/// </summary>
[Migration(2026_01_12_0011, "Create tailnet coordinators, peers and tunnels, replicas, site configs and licenses")]
internal sealed class M2026_01_12_0011_CreateTailnetReplicasAndDeployment : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        CreateEnum("tailnet_status", "ok", "lost");

        Create.Table("tailnet_coordinators")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("tailnet_coordinators_pkey")
            .WithColumn("heartbeat_at").AsDateTimeOffset().NotNullable();
        Describe("tailnet_coordinators", "A tailnet coordinator (one per coderd replica) and its last heartbeat.");

        Create.Table("tailnet_peers")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("tailnet_peers_pkey")
            .WithColumn("coordinator_id").AsGuid().NotNullable().PrimaryKey("tailnet_peers_pkey")
                .ForeignKey("tailnet_peers_coordinator_id_fkey", "tailnet_coordinators", "id").OnDelete(Rule.Cascade)
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("node").AsBinary().NotNullable()
            .WithColumn("status").AsCustom("tailnet_status").NotNullable().WithDefaultValue("ok");
        Describe("tailnet_peers", "A peer of the tailnet as seen by one coordinator.",
            ("node", "The peer's node description, protobuf-encoded."));
        Create.Index("idx_tailnet_peers_coordinator").OnTable("tailnet_peers").OnColumn("coordinator_id").Ascending();

        Create.Table("tailnet_tunnels")
            .WithColumn("coordinator_id").AsGuid().NotNullable().PrimaryKey("tailnet_tunnels_pkey")
                .ForeignKey("tailnet_tunnels_coordinator_id_fkey", "tailnet_coordinators", "id").OnDelete(Rule.Cascade)
            .WithColumn("src_id").AsGuid().NotNullable().PrimaryKey("tailnet_tunnels_pkey")
            .WithColumn("dst_id").AsGuid().NotNullable().PrimaryKey("tailnet_tunnels_pkey")
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable();
        Describe("tailnet_tunnels", "A tunnel one peer asked for to another peer, through one coordinator.");
        CreateIndex("idx_tailnet_tunnels_dst_id", "tailnet_tunnels", "(dst_id)", method: "hash");
        CreateIndex("idx_tailnet_tunnels_src_id", "tailnet_tunnels", "(src_id)", method: "hash");

        // No primary key, as in coderd's schema (nor any unique key).
        Create.Table("replicas")
            .WithColumn("id").AsGuid().NotNullable()
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("started_at").AsDateTimeOffset().NotNullable()
            .WithColumn("stopped_at").AsDateTimeOffset().Nullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("hostname").AsString().NotNullable()
            .WithColumn("region_id").AsInt32().NotNullable()
            .WithColumn("relay_address").AsString().NotNullable()
            .WithColumn("database_latency").AsInt32().NotNullable()
            .WithColumn("version").AsString().NotNullable()
            .WithColumn("error").AsString().NotNullable().WithDefaultValue("")
            .WithColumn("primary").AsBoolean().NotNullable().WithDefaultValue(true);
        Describe("replicas", "A running or stopped coderd replica.",
            ("stopped_at", "When the replica stopped; NULL while it runs."),
            ("region_id", "DERP region id the replica serves."),
            ("relay_address", "Address other replicas relay DERP traffic to."),
            ("database_latency", "Latency to the database the replica last measured."),
            ("error", "Last error the replica reported; empty if none."),
            ("primary", "True for replicas of the primary deployment, false for workspace proxies."));

        // No primary key: a setting is identified by its unique key.
        Create.Table("site_configs")
            .WithColumn("key").AsString(256).NotNullable()
            .WithColumn("value").AsString().NotNullable();
        Describe("site_configs", "A deployment-wide setting, as a key and value.");
        Create.UniqueConstraint("site_configs_key_key").OnTable("site_configs").Column("key");

        CreateSequence("licenses_id_seq", "integer");
        Create.Table("licenses")
            .WithColumn("id").AsInt32().NotNullable().WithDefaultValue(NextValue("licenses_id_seq")).PrimaryKey("licenses_pkey")
            .WithColumn("uploaded_at").AsDateTimeOffset().NotNullable()
            .WithColumn("jwt").AsString().NotNullable()
            .WithColumn("exp").AsDateTimeOffset().NotNullable()
            .WithColumn("uuid").AsGuid().NotNullable();
        Describe("licenses", "An enterprise license uploaded to the deployment.",
            ("jwt", "The license as a signed JWT."),
            ("exp", "When the license expires."),
            ("uuid", "Id of the license from its claims."));
        OwnSequence("licenses_id_seq", "licenses", "id");
        Create.UniqueConstraint("licenses_jwt_key").OnTable("licenses").Column("jwt");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("licenses");
        Delete.Table("site_configs");
        Delete.Table("replicas");
        Delete.Table("tailnet_tunnels");
        Delete.Table("tailnet_peers");
        Delete.Table("tailnet_coordinators");
        DropType("tailnet_status");
    }
}

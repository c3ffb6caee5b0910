using System.Text.Json.Nodes;
using Coderd.Database.Migrations;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The JSON form and the comparison of <see cref="SchemaSnapshot"/>, on the spec's facts and on
/// copies of them with one fact changed; no server.
/// </summary>
public sealed class SchemaSnapshotTests
{
    private const string ProvisionerTagset = "function provisioner_tagset_contains(provisioner_tags tagset, job_tags tagset)";

    /// <summary>One changed fact each: what to change in the found copy of the spec, and the differences it must give.</summary>
    private static readonly Dictionary<string, (Action<JsonObject> Change, SchemaDifference[] Expected)> Changes = new()
    {
        ["changed column default"] = (
            spec => Column(spec, "users", "username")["default"] = "'nobody'::text",
            [new("table users / column username / default", "''::text", "'nobody'::text")]),
        ["dropped default"] = (
            spec => Column(spec, "users", "username").Remove("default"),
            [new("table users / column username / default", "''::text", null)]),
        ["nullable column"] = (
            spec => Column(spec, "users", "email")["not_null"] = false,
            [new("table users / column email / not_null", "true", "false")]),
        ["dropped index"] = (
            spec => RemoveNamed(Table(spec, "users")["indexes"]!.AsArray(), "idx_users_username"),
            [new("table users / index idx_users_username", "CREATE UNIQUE INDEX idx_users_username ON users USING btree (username) WHERE (deleted = false)", null)]),
        ["changed trigger condition"] = (
            spec => Named(Table(spec, "users")["triggers"]!.AsArray(), "trigger_update_users")["def"] =
                "CREATE TRIGGER trigger_update_users AFTER INSERT OR UPDATE ON users FOR EACH ROW WHEN ((new.deleted = false)) EXECUTE FUNCTION delete_deleted_user_resources()",
            [new("table users / trigger trigger_update_users",
                "CREATE TRIGGER trigger_update_users AFTER INSERT OR UPDATE ON users FOR EACH ROW WHEN ((new.deleted = true)) EXECUTE FUNCTION delete_deleted_user_resources()",
                "CREATE TRIGGER trigger_update_users AFTER INSERT OR UPDATE ON users FOR EACH ROW WHEN ((new.deleted = false)) EXECUTE FUNCTION delete_deleted_user_resources()")]),
        ["added column"] = (
            spec => Table(spec, "chats")["columns"]!.AsArray().Add(new JsonObject { ["name"] = "added_by_hand", ["type"] = "integer", ["not_null"] = false }),
            [new("table chats / column added_by_hand", null, "integer")]),
        ["swapped columns"] = (
            spec =>
            {
                var columns = Table(spec, "user_configs")["columns"]!.AsArray();
                var first = columns[0]!;
                columns.RemoveAt(0);
                columns.Insert(1, first);
            },
            [new("table user_configs / column order", "user_id, key, value", "key, user_id, value")]),
        ["dropped table"] = (
            spec => RemoveNamed(spec["tables"]!.AsArray(), "user_configs"),
            [new("table user_configs", "table of 3 columns", null)]),
        ["reordered enum labels"] = (
            spec => Named(spec["types"]!.AsArray(), "user_status")["labels"] = new JsonArray("dormant", "active", "suspended"),
            [new("type user_status / labels", "active, suspended, dormant", "dormant, active, suspended")]),
        ["view column of another type"] = (
            spec => Named(spec["views"]!.AsArray(), "visible_users")["columns"]![3] = new JsonArray("avatar_url", "character varying"),
            [new("view visible_users / column avatar_url / type", "text", "character varying")]),
        ["stable function"] = (
            spec => Named(spec["functions"]!.AsArray(), "provisioner_tagset_contains")["volatility"] = "s",
            [new($"{ProvisionerTagset} / volatility", "v", "s")]),
        ["sequence owned by another column"] = (
            spec => Named(spec["sequences"]!.AsArray(), "licenses_id_seq")["owned_by"] = "licenses.uuid",
            [new("sequence licenses_id_seq / owned_by", "licenses.id", "licenses.uuid")]),
    };

    public static TheoryData<string> ChangeNames => new(Changes.Keys);

    [Fact]
    public void SpecRoundTripsThroughTheSnapshotModuloFormatting()
    {
        var spec = JsonNode.Parse(Spec.Json)!.AsObject();
        spec.Remove("about");

        Assert.True(JsonNode.DeepEquals(spec, JsonNode.Parse(Spec.Snapshot.ToJson())), "A fact of coderd-schema.json was lost or changed by Parse and ToJson.");
    }

    [Fact]
    public void ToJsonWritesOneFactPerLineAndParsesBackToTheSameText()
    {
        var json = Spec.Snapshot.ToJson();

        Assert.Equal(json, SchemaSnapshot.Parse(json).ToJson());
        Assert.Contains("\n        {\"name\":\"username\",\"type\":\"text\",\"not_null\":true,\"default\":\"''::text\"},\n", json, StringComparison.Ordinal);
        Assert.EndsWith("\n  ]\n}\n", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", json, StringComparison.Ordinal);
    }

    [Fact]
    public void SpecEqualsItself()
    {
        Assert.Empty(SchemaSnapshot.Compare(Spec.Snapshot, SchemaSnapshot.Parse(Spec.Json)));
    }

    [Theory]
    [MemberData(nameof(ChangeNames))]
    public void OneChangedFactIsExactlyItsDifference(string change)
    {
        var (mutate, expected) = Changes[change];

        var differences = SchemaSnapshot.Compare(Spec.Snapshot, Changed(mutate));

        Assert.Equal(expected, differences);
    }

    [Fact]
    public void DifferencesComeTypesFirstThenTablesByNameThenViewsThenFunctions()
    {
        var found = Changed(spec =>
        {
            foreach (var (mutate, _) in Changes.Values) mutate(spec);
        });

        var paths = SchemaSnapshot.Compare(Spec.Snapshot, found).Select(d => d.Path);

        Assert.Equal(
            [
                "type user_status / labels",
                "sequence licenses_id_seq / owned_by",
                "table chats / column added_by_hand",
                "table user_configs",
                "table users / column email / not_null",
                "table users / column username / default",
                "table users / index idx_users_username",
                "table users / trigger trigger_update_users",
                "view visible_users / column avatar_url / type",
                $"{ProvisionerTagset} / volatility",
            ],
            paths);
    }

    [Fact]
    public void DifferenceIsOneLineEvenForAMultiLineExpression()
    {
        var generated = Column(JsonNode.Parse(Spec.Json)!.AsObject(), "provisioner_jobs", "job_status")["generated"]!.GetValue<string>();
        Assert.Contains('\n', generated);

        var line = new SchemaDifference("table provisioner_jobs / column job_status / generated", generated, null).ToString();

        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("table provisioner_jobs / column job_status / generated: expected \\nCASE\\n", line, StringComparison.Ordinal);
        Assert.EndsWith(", found (none)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("""{"types":[],"sequences":[],"tables":[{"name":"t"}],"views":[],"functions":[]}""")]
    [InlineData("""{"types":[],"sequences":[],"tables":[],"views":[],"functions":[],"extra":1}""")]
    public void ParseRejectsWhatIsNotASnapshot(string json)
    {
        Assert.Throws<FormatException>(() => SchemaSnapshot.Parse(json));
    }

    private static SchemaSnapshot Changed(Action<JsonObject> mutate)
    {
        var spec = JsonNode.Parse(Spec.Json)!.AsObject();
        mutate(spec);
        return SchemaSnapshot.Parse(spec.ToJsonString());
    }

    private static JsonObject Table(JsonObject spec, string table) => Named(spec["tables"]!.AsArray(), table);

    private static JsonObject Column(JsonObject spec, string table, string column) => Named(Table(spec, table)["columns"]!.AsArray(), column);

    private static JsonObject Named(JsonArray items, string name) =>
        items.Single(i => i!["name"]!.GetValue<string>() == name)!.AsObject();

    private static void RemoveNamed(JsonArray items, string name) => items.Remove(Named(items, name));
}

using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Coderd.Database.Migrations;

/// <summary>
/// The JSON form of a snapshot, through source-generated metadata (the CLI is a native build: no
/// reflection). Each fact (type, sequence, column, constraint, index, trigger, view column,
/// function) is one line, as in <c>coderd-schema.json</c>, so that a changed fact is a changed line
/// in a diff; the document around them is indented by two spaces.
/// </summary>
internal static class SnapshotJson
{
    // Relaxed: quotes in SQL texts ('' and '{}') stay readable instead of becoming \u0027.
    private static readonly JsonSerializerOptions Options = new(SnapshotJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(SnapshotFacts facts)
    {
        var json = new StringBuilder("{\n");
        if (facts.About is not null) json.Append("  \"about\": ").Append(Leaf(facts.About)).Append(",\n");
        Member(json, "  ", "types", Array("  ", facts.Types.Select(Leaf)), last: false);
        Member(json, "  ", "sequences", Array("  ", facts.Sequences.Select(Leaf)), last: false);
        Member(json, "  ", "tables", Array("  ", facts.Tables.Select(t => Object("    ",
            ("name", Leaf(t.Name)),
            ("columns", Array("      ", t.Columns.Select(Leaf))),
            ("constraints", Array("      ", t.Constraints.Select(Leaf))),
            ("indexes", Array("      ", t.Indexes.Select(Leaf))),
            ("triggers", Array("      ", t.Triggers.Select(Leaf)))))), last: false);
        Member(json, "  ", "views", Array("  ", facts.Views.Select(v => Object("    ",
            ("name", Leaf(v.Name)),
            ("kind", Leaf(v.Kind)),
            ("columns", Array("      ", v.Columns.Select(Leaf)))))), last: false);
        Member(json, "  ", "functions", Array("  ", facts.Functions.Select(Leaf)), last: true);
        return json.Append("}\n").ToString();
    }

    public static SnapshotFacts Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Info<SnapshotFacts>())
                ?? throw new FormatException("The schema snapshot is JSON null; expected an object with types, sequences, tables, views and functions.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"Not a schema snapshot: {e.Message}", e);
        }
    }

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    /// <summary>A value on one line.</summary>
    private static string Leaf<T>(T value) => JsonSerializer.Serialize(value, Info<T>());

    private static void Member(StringBuilder json, string indent, string name, string value, bool last) =>
        json.Append(indent).Append('"').Append(name).Append("\": ").Append(value).Append(last ? "\n" : ",\n");

    /// <summary><c>[]</c>, or one item per line indented one step deeper than <paramref name="indent"/>.</summary>
    private static string Array(string indent, IEnumerable<string> items)
    {
        var lines = string.Join(",\n", items.Select(item => indent + "  " + item));
        return lines.Length == 0 ? "[]" : $"[\n{lines}\n{indent}]";
    }

    /// <summary>An object whose members are one per line at <paramref name="indent"/> plus one step.</summary>
    private static string Object(string indent, params (string Name, string Value)[] members) =>
        $"{{\n{string.Join(",\n", members.Select(m => $"{indent}  \"{m.Name}\": {m.Value}"))}\n{indent}}}";

    /// <summary><see cref="NameAndType"/> as <c>["name","type"]</c>.</summary>
    internal sealed class PairConverter : JsonConverter<NameAndType>
    {
        public override NameAndType Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("Expected a [name, type] array.");
            var name = NextString(ref reader);
            var type = NextString(ref reader);
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray) throw new JsonException("Expected a [name, type] array of two strings.");
            return new NameAndType(name, type);
        }

        public override void Write(Utf8JsonWriter writer, NameAndType value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(value.Name);
            writer.WriteStringValue(value.Type);
            writer.WriteEndArray();
        }

        private static string NextString(ref Utf8JsonReader reader)
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.String) throw new JsonException("Expected a [name, type] array of two strings.");
            return reader.GetString()!;
        }
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    Converters = [typeof(SnapshotJson.PairConverter)])]
[JsonSerializable(typeof(SnapshotFacts))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;

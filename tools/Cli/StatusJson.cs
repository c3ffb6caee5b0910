using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Coderd.Database.Migrations;

namespace Coderd.Database.Cli;

/// <summary>
/// <c>status --json</c>: <c>{"serverVersion":"15.18","migrations":[{"version":...,"description":"...",
/// "appliedAt":"2026-11-25T10:00:00Z"|null,"known":true}]}</c>, written with <see cref="Utf8JsonWriter"/>
/// (no reflection), one line.
/// </summary>
internal static class StatusJson
{
    public static string Write(MigrationStatus status)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("serverVersion", status.ServerVersion);
            json.WriteStartArray("migrations");
            foreach (var m in status.Migrations)
            {
                json.WriteStartObject();
                json.WriteNumber("version", m.Version);
                json.WriteString("description", m.Description);
                if (m.AppliedAt is { } at) json.WriteString("appliedAt", Timestamp(at));
                else json.WriteNull("appliedAt");
                // False for an applied version this build does not know: the database is ahead.
                json.WriteBoolean("known", m.Known);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    /// <summary>UTC ISO-8601 with a Z, fractional seconds only when there are any.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);
}

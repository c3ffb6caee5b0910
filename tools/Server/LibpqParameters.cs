using System.Globalization;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// The libpq connection parameters coderd-db understands, one table for the three ways they arrive
/// (<c>postgres://</c> URL query parameters, libpq key/value strings, the <c>PG*</c> environment),
/// and the ones it refuses. A refusal names the parameter from this table, never from the input.
/// </summary>
internal static class LibpqParameters
{
    /// <summary>A libpq parameter coderd-db honours: libpq's keyword, its environment variable (null for none), the Npgsql keyword it becomes.</summary>
    internal sealed record Parameter(string Keyword, string? Variable, string NpgsqlKeyword);

    public static readonly IReadOnlyList<Parameter> Honoured =
    [
        new("host", "PGHOST", "Host"),
        new("port", "PGPORT", "Port"),
        new("dbname", "PGDATABASE", "Database"),
        new("user", "PGUSER", "Username"),
        new("password", "PGPASSWORD", "Password"),
        new("passfile", "PGPASSFILE", "Passfile"),
        new("sslmode", "PGSSLMODE", "SSL Mode"),
        new("sslrootcert", "PGSSLROOTCERT", "Root Certificate"),
        new("sslcert", "PGSSLCERT", "SSL Certificate"),
        new("sslkey", "PGSSLKEY", "SSL Key"),
        new("sslpassword", null, "SSL Password"),
        new("application_name", "PGAPPNAME", "Application Name"),
        new("connect_timeout", "PGCONNECT_TIMEOUT", "Timeout"),
        new("options", "PGOPTIONS", "Options"),
        new("target_session_attrs", "PGTARGETSESSIONATTRS", "Target Session Attributes"),
        new("client_encoding", "PGCLIENTENCODING", "Client Encoding"),
    ];

    /// <summary>
    /// libpq's other connection parameters (PostgreSQL 18's list) with their environment variables:
    /// each would change the connection, and coderd-db (Npgsql, and the pg_dump it may run) cannot
    /// honour it faithfully, so it is refused rather than silently ignored.
    /// </summary>
    public static readonly IReadOnlyList<(string Keyword, string? Variable)> Refused =
    [
        ("hostaddr", "PGHOSTADDR"), ("service", "PGSERVICE"), ("requiressl", "PGREQUIRESSL"),
        ("sslcompression", "PGSSLCOMPRESSION"), ("sslcertmode", "PGSSLCERTMODE"), ("sslcrl", "PGSSLCRL"),
        ("sslcrldir", "PGSSLCRLDIR"), ("sslsni", "PGSSLSNI"), ("sslnegotiation", "PGSSLNEGOTIATION"),
        ("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"), ("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"),
        ("requirepeer", "PGREQUIREPEER"), ("require_auth", "PGREQUIREAUTH"), ("channel_binding", "PGCHANNELBINDING"),
        ("gssencmode", "PGGSSENCMODE"), ("gsslib", "PGGSSLIB"), ("gssdelegation", "PGGSSDELEGATION"),
        ("krbsrvname", "PGKRBSRVNAME"), ("load_balance_hosts", "PGLOADBALANCEHOSTS"),
        ("min_protocol_version", "PGMINPROTOCOLVERSION"), ("max_protocol_version", "PGMAXPROTOCOLVERSION"),
        ("keepalives", null), ("keepalives_idle", null), ("keepalives_interval", null), ("keepalives_count", null),
        ("tcp_user_timeout", null), ("replication", null), ("fallback_application_name", null), ("sslkeylogfile", null),
        ("oauth_issuer", null), ("oauth_client_id", null), ("oauth_client_secret", null), ("oauth_scope", null),
    ];

    /// <summary>libpq's spelling of each SSL mode; Npgsql's enum has no dashes.</summary>
    public static readonly IReadOnlyDictionary<SslMode, string> SslModes = new Dictionary<SslMode, string>
    {
        [SslMode.Disable] = "disable", [SslMode.Allow] = "allow", [SslMode.Prefer] = "prefer",
        [SslMode.Require] = "require", [SslMode.VerifyCA] = "verify-ca", [SslMode.VerifyFull] = "verify-full",
    };

    /// <summary>What libpq accepts for <c>target_session_attrs</c>; Npgsql takes the same words.</summary>
    public static readonly IReadOnlyList<string> SessionAttributes = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"];

    public static Parameter? Find(string keyword) => Honoured.FirstOrDefault(p => string.Equals(p.Keyword, keyword, StringComparison.Ordinal));

    public static bool IsRefused(string keyword) => Refused.Any(r => string.Equals(r.Keyword, keyword, StringComparison.Ordinal));

    /// <summary>Refuses a keyword coderd-db does not honour; <paramref name="what"/> and <paramref name="hint"/> word the refusal.</summary>
    /// <exception cref="FormatException">A refused keyword, named, or an unknown one, not named: it may be part of a value.</exception>
    public static void Check(string keyword, (string Refused, string Unknown) what, string hint)
    {
        if (IsRefused(keyword)) throw new FormatException($"coderd-db does not support the {what.Refused} {keyword}");
        if (Find(keyword) is null) throw new FormatException($"{what.Unknown} is not a libpq connection parameter (not shown: it may be part of a value; {hint})");
    }

    /// <summary>Records a value as libpq does: the last one given wins, and an empty one counts as none.</summary>
    public static void Set(Dictionary<string, string> values, string keyword, string value)
    {
        if (value.Length == 0) values.Remove(keyword);
        else values[keyword] = value;
    }

    /// <summary>A builder from libpq keywords and their values; <paramref name="part"/> names where a keyword's value came from.</summary>
    /// <exception cref="FormatException">A value is not valid; the message names its part, never the value.</exception>
    public static NpgsqlConnectionStringBuilder Build(IReadOnlyDictionary<string, string> values, Func<string, string> part)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        SetHostAndPort(builder, values.GetValueOrDefault("host"), values.GetValueOrDefault("port"), part("host"), part("port"));
        foreach (var (keyword, value) in values)
        {
            if (keyword is not ("host" or "port")) Apply(builder, Find(keyword)!, value, part(keyword));
        }

        return builder;
    }

    /// <summary>Sets one parameter other than host and port; <paramref name="part"/> names where the value came from.</summary>
    /// <exception cref="FormatException">The value is not valid for the parameter; the message never holds it.</exception>
    public static void Apply(NpgsqlConnectionStringBuilder builder, Parameter parameter, string value, string part)
    {
        switch (parameter.Keyword)
        {
            case "sslmode":
                builder.SslMode = SslModes.Where(m => m.Value == value).Select(m => (SslMode?)m.Key).FirstOrDefault()
                    ?? throw new FormatException($"{part} is not one of {string.Join(", ", SslModes.Values)}");
                return;
            case "target_session_attrs":
                builder.TargetSessionAttributes = SessionAttributes.Contains(value, StringComparer.Ordinal)
                    ? value
                    : throw new FormatException($"{part} is not one of {string.Join(", ", SessionAttributes)}");
                return;
            case "connect_timeout":
                // libpq reads zero or less as "wait forever", which is Npgsql's 0.
                builder.Timeout = int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) && seconds <= 1024
                    ? Math.Max(seconds, 0)
                    : throw new FormatException($"{part} is not a whole number of seconds up to 1024");
                return;
        }

        try
        {
            builder[parameter.NpgsqlKeyword] = value;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            throw new FormatException($"{part} is not valid");
        }
    }

    /// <summary>
    /// Sets <c>Host</c> and <c>Port</c> from libpq's comma-separated lists (either may be null): one
    /// port for every host, or one per host (written <c>host:port</c> into Npgsql's host list).
    /// </summary>
    /// <exception cref="FormatException">An empty host, a port that is not 1 to 65535, or lists of different lengths.</exception>
    public static void SetHostAndPort(NpgsqlConnectionStringBuilder builder, string? hosts, string? ports, string hostPart, string portPart)
    {
        var hostList = hosts?.Split(',') ?? [];
        if (hostList.Any(h => h.Length == 0)) throw new FormatException($"{hostPart} has an empty entry in its list");
        var portList = ParsePorts(ports, portPart);
        if (hosts is null && portList.Count > 1) throw new FormatException($"{portPart} lists several ports, which go only with a list of as many hosts in {hostPart}");
        if (portList.Count == 1)
        {
            if (hosts is not null) builder.Host = hosts;
            if (portList[0] is { } port) builder.Port = port;
        }
        else if (portList.Count == hostList.Length)
        {
            builder.Host = string.Join(',', hostList.Zip(portList, (host, port) => port is null ? host : WithPort(host, port.Value)));
        }
        else
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture,
                $"{portPart} lists {portList.Count} ports for {hostList.Length} hosts; give one port, or one per host"));
        }
    }

    /// <summary>Ports as libpq lists them; an empty entry (or no list at all) is the default, null.</summary>
    public static IReadOnlyList<int?> ParsePorts(string? ports, string part) =>
        (ports ?? "").Split(',').Select(p => p.Length == 0 ? (int?)null
            : int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535 ? port
            : throw new FormatException($"{part} is not a number from 1 to 65535")).ToList();

    /// <summary>An entry of Npgsql's host list: IPv6 addresses in brackets when a port follows.</summary>
    public static string WithPort(string host, int port) =>
        string.Create(CultureInfo.InvariantCulture, $"{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}");

    /// <summary>
    /// The hosts of an Npgsql host list with their ports (<paramref name="defaultPort"/> where none is
    /// written), the way Npgsql splits it: the last colon, unless it is inside an IPv6 address.
    /// </summary>
    public static IReadOnlyList<(string Host, int Port)> Endpoints(string hosts, int defaultPort) =>
        hosts.Split(',', StringSplitOptions.TrimEntries).Select(entry =>
        {
            var colon = entry.LastIndexOf(':');
            var close = entry.LastIndexOf(']');
            var hasPort = colon > 0 && (entry.IndexOf(':', StringComparison.Ordinal) == colon || colon > close && close > 0)
                && int.TryParse(entry.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _);
            var host = hasPort ? entry[..colon] : entry;
            var port = hasPort ? int.Parse(entry.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture) : defaultPort;
            return (host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host, port);
        }).ToList();
}

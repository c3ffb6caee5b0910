using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// Reads connection strings in the three forms people hand over: Npgsql keywords
/// (<c>Host=...;Username=...</c>), <c>postgres://user:pass@host:port/db?sslmode=...</c> URLs, and
/// libpq key/value strings (<c>host=... dbname=... sslmode=...</c>, what psql and pg_dump take).
/// </summary>
/// <remarks>
/// Every message names the part that is wrong and holds no text of the input, which may hold a
/// password. The form is told by a URL's scheme, else by <see cref="LibpqKeyValue.LooksLike"/>, else
/// it is Npgsql's. Npgsql reads its form, <see cref="LibpqKeyValue"/> libpq's, <see cref="Uri"/> splits URLs.
/// </remarks>
public static partial class ConnectionStrings
{
    private const string PercentEncode =
        "percent-encode special characters in the user name and password (%40 for @, %3A for :, %2F for /, %3F for ?, %23 for #, %25 for %)";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses any of the three forms into a new builder; nothing is taken from the environment.</summary>
    /// <exception cref="FormatException">The text is malformed; the message says which part is wrong
    /// and never contains any of the text.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var text = connectionString.Trim();
        if (text.Length == 0)
        {
            throw new FormatException("The connection string is empty; pass Host=...;Username=..., host=... user=..., or postgres://user@host:port/database.");
        }

        // A keyword string can contain "://" inside a value (Options=...); only a leading scheme counts.
        if (UrlScheme().Match(text) is { Success: true } scheme)
        {
            return scheme.Groups[1].Value.ToLowerInvariant() is "postgres" or "postgresql"
                ? ParseUrl(text)
                : throw new FormatException("The postgres URL is not valid: only the schemes postgres:// and postgresql:// are supported.");
        }

        return LibpqKeyValue.LooksLike(text) ? LibpqKeyValue.Parse(text) : ParseKeywords(text);
    }

    /// <summary>Whether <paramref name="keyword"/> (an Npgsql keyword, such as <c>Port</c>) was given, as opposed to holding its default.</summary>
    public static bool IsSet(NpgsqlConnectionStringBuilder builder, string keyword) =>
        new DbConnectionStringBuilder { ConnectionString = builder.ConnectionString }.ContainsKey(keyword);

    /// <summary>A printable form of the connection string: keyword form, any password replaced by <c>***</c>.</summary>
    public static string Redact(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!string.IsNullOrEmpty(copy.Password)) copy.Password = "***";
        if (!string.IsNullOrEmpty(copy.SslPassword)) copy.SslPassword = "***";
        return copy.ConnectionString;
    }

    /// <summary>A printable form of any of the three forms; unparseable input is not echoed.</summary>
    public static string Redact(string connectionString)
    {
        try { return Redact(Parse(connectionString)); }
        catch (FormatException) { return "(unparseable connection string)"; }
    }

    /// <summary>Which database, where, as whom, in one phrase: <c>database "coder" on db:5432 as user "app"</c>; never the password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder)
    {
        var where = builder.Host is { } hosts
            ? string.Join(", ", LibpqParameters.Endpoints(hosts, builder.Port).Select(e => e.Host.StartsWith('/')
                ? string.Create(CultureInfo.InvariantCulture, $"the socket in {e.Host} (port {e.Port})")
                : LibpqParameters.WithPort(e.Host, e.Port)))
            : "(no host)";
        return $"database \"{builder.Database}\" on {where} as user \"{builder.Username}\"";
    }

    /// <summary>
    /// The connection as a libpq key/value string, every value quoted, for programs such as pg_dump
    /// (<c>--dbname</c> takes it whole, so a database named <c>dbname=x</c> stays that name): what is
    /// set, and the SSL mode always, but never a password, which belongs in <c>PGPASSWORD</c> or a
    /// password file, not on a command line every user can read.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting libpq has no equivalent for.</exception>
    public static string ToLibpq(NpgsqlConnectionStringBuilder builder)
    {
        var pairs = new List<(string Key, string Value)>();
        if (builder.Host is { } hosts)
        {
            var endpoints = LibpqParameters.Endpoints(hosts, builder.Port);
            pairs.Add(("host", string.Join(',', endpoints.Select(e => e.Host))));
            pairs.Add(("port", string.Join(',', endpoints.Select(e => e.Port.ToString(CultureInfo.InvariantCulture)))));
        }

        foreach (var parameter in LibpqParameters.Honoured)
        {
            if (parameter.Keyword is "host" or "port" or "password" or "sslpassword") continue;
            // The SSL mode is always written: libpq would otherwise read PGSSLMODE, which Npgsql ignores.
            if (!IsSet(builder, parameter.NpgsqlKeyword) && parameter.Keyword != "sslmode") continue;
            pairs.Add((parameter.Keyword, parameter.Keyword switch
            {
                "sslmode" => LibpqParameters.SslModes[builder.SslMode],
                "connect_timeout" => builder.Timeout.ToString(CultureInfo.InvariantCulture),
                "target_session_attrs" when !LibpqParameters.SessionAttributes.Contains(builder.TargetSessionAttributes, StringComparer.Ordinal) =>
                    throw new InvalidOperationException($"libpq has no target_session_attrs for the Target Session Attributes given; use one of {string.Join(", ", LibpqParameters.SessionAttributes)}"),
                _ => Convert.ToString(builder[parameter.NpgsqlKeyword], CultureInfo.InvariantCulture) ?? "",
            }));
        }

        return string.Join(' ', pairs.Select(p => $"{p.Key}='{p.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'"));
    }

    private static NpgsqlConnectionStringBuilder ParseKeywords(string text)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(text);
        }
        catch (ArgumentException e)
        {
            // Npgsql names the keyword it could not set. A known one is safe to repeat; an unknown one
            // may be the rest of a password cut at an unquoted ';', so it is never shown. No inner
            // exception either: its message holds that text.
            throw new FormatException(e.ParamName switch
            {
                var key when key is not null && new NpgsqlConnectionStringBuilder().ContainsKey(key) =>
                    $"The connection string value for '{key}' is not valid.",
                not null => "The connection string has a keyword Npgsql does not know (not shown: it may be part of a value); " +
                    "a value holding ';' must be in double quotes, and keywords are listed in the Npgsql connection string reference.",
                null => "The connection string is neither Key=Value;... pairs, key=value pairs separated by spaces, nor a postgres:// URL; check quoting and separators.",
            });
        }
    }

    private static NpgsqlConnectionStringBuilder ParseUrl(string text)
    {
        try
        {
            return ReadUrl(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"The postgres URL is not valid: {e.Message}.");
        }
    }

    private static NpgsqlConnectionStringBuilder ReadUrl(string text)
    {
        // System.Uri re-escapes a stray '%' instead of refusing it, and a password it silently keeps
        // wrong is hard to see: libpq refuses them, and so do we.
        if (BadEscape().IsMatch(text)) throw new FormatException($"it has a '%' that is not followed by two hex digits; {PercentEncode}");

        // Where the authority ends ('/', '?', '#') is decided before any '@': a password with one of
        // those unencoded ends it early, and what follows must not be read as host, port or database.
        var authorityStart = text.IndexOf("://", StringComparison.Ordinal) + 3;
        var rest = text[authorityStart..];
        var authorityEnd = rest.IndexOfAny(['/', '?', '#']);
        var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        var tail = authorityEnd < 0 ? "" : rest[authorityEnd..];
        var at = authority.LastIndexOf('@');
        if (authority.IndexOf('@', StringComparison.Ordinal) != at || (at < 0 && tail.Contains('@', StringComparison.Ordinal)))
        {
            throw new FormatException($"it is malformed: a '/', '?', '#' or '@' in the user name or password ends them early, so {PercentEncode}; an '@' meant in a parameter is %40");
        }

        if (tail.Contains('#', StringComparison.Ordinal)) throw new FormatException($"it contains '#'; {PercentEncode}");

        // Several hosts (libpq's host1:port1,host2:port2) are split here, each read by System.Uri.
        var hostList = authority[(at + 1)..].Split(',');
        var endpoints = hostList.Select(entry => entry.Length == 0 && hostList.Length > 1 ? throw new FormatException("a host in its list of hosts is empty") : ReadHost(entry)).ToList();
        if (!Uri.TryCreate(text[..authorityStart] + authority[..(at + 1)] + hostList[0] + tail, UriKind.Absolute, out var uri))
        {
            throw new FormatException($"it is malformed; check the host, and {PercentEncode}");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (endpoints.Any(e => e.Host.Length > 0)) values["host"] = string.Join(',', endpoints.Select(e => e.Host));
        if (endpoints.Any(e => e.Port is not null)) values["port"] = string.Join(',', endpoints.Select(e => e.Port?.ToString(CultureInfo.InvariantCulture)));
        var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
        var user = colon >= 0 ? uri.UserInfo[..colon] : uri.UserInfo;
        if (user.Length > 0) values["user"] = Decode(user, "the user name");
        if (colon >= 0 && colon + 1 < uri.UserInfo.Length) values["password"] = Decode(uri.UserInfo[(colon + 1)..], "the password");
        var path = uri.AbsolutePath.TrimStart('/');
        if (path.Contains('/', StringComparison.Ordinal)) throw new FormatException("the database name contains '/'; percent-encode it as %2F");
        if (path.Length > 0) values["dbname"] = Decode(path, "the database name");

        // libpq: query parameters override what the authority and path say.
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw new FormatException("a query parameter is not of the form name=value (a value holding '&' or '=' must percent-encode them)");
            var name = Decode(pair[..equals], "a query parameter name");
            LibpqParameters.Check(name, ("query parameter", "a query parameter"), "percent-encode '&' and '=' inside values");
            LibpqParameters.Set(values, name, Decode(pair[(equals + 1)..], $"the value of {name}"));
        }

        return LibpqParameters.Build(values, part => $"the {part} of the URL");
    }

    /// <summary>One <c>host[:port]</c> of a URL's authority, read by System.Uri; the port is checked first so that its error names it.</summary>
    private static (string Host, int? Port) ReadHost(string entry)
    {
        var close = entry.LastIndexOf(']');
        var colon = entry.LastIndexOf(':');
        var port = colon >= 0 && colon > close && (entry.StartsWith('[') || entry.IndexOf(':', StringComparison.Ordinal) == colon)
            ? LibpqParameters.ParsePorts(entry[(colon + 1)..], "the port")[0]
            : null;
        if (entry.Length == 0) return ("", null);
        // IdnHost is the host without the brackets of an IPv6 address.
        return Uri.TryCreate("postgres://" + entry, UriKind.Absolute, out var uri) && uri.UserInfo.Length == 0 && uri.AbsolutePath is "/" or ""
            ? (uri.IdnHost, port)
            : throw new FormatException($"a host is malformed; {PercentEncode}");
    }

    // System.Uri hands over its parts escaped and ASCII only, and every '%' in the URL was checked to
    // start two hex digits; several escapes can make one character, so bytes first, then strict UTF-8.
    private static string Decode(string text, string what)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            bytes.Add(text[i] == '%' ? Convert.ToByte(text.Substring(i + 1, 2), 16) : (byte)text[i]);
            if (text[i] == '%') i += 2;
        }

        try
        {
            return StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{what} is not valid UTF-8 after percent-decoding");
        }
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*)://")]
    private static partial Regex UrlScheme();

    [GeneratedRegex("%(?![0-9A-Fa-f]{2})")]
    private static partial Regex BadEscape();
}

using System.Data.Common;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// Reads connection strings the way people hand them over: Npgsql keywords
/// (<c>Host=...;Username=...</c>) or libpq URLs (<c>postgres://user:pass@host:port/db?sslmode=...</c>).
/// </summary>
/// <remarks>
/// Every message this class produces is safe to print: it never contains the password, and never
/// echoes the input, which may hold one.
/// </remarks>
internal static class ConnectionStrings
{
    private const string Redacted = "***";

    // libpq URL parameters and the Npgsql keyword each one becomes. Parameters with no faithful
    // Npgsql equivalent are rejected rather than silently dropped.
    private static readonly Dictionary<string, string> UrlParameters = new(StringComparer.Ordinal)
    {
        ["application_name"] = "Application Name",
        ["client_encoding"] = "Client Encoding",
        ["connect_timeout"] = "Timeout",
        ["dbname"] = "Database",
        ["host"] = "Host",
        ["options"] = "Options",
        ["password"] = "Password",
        ["port"] = "Port",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslmode"] = "SSL Mode",
        ["sslpassword"] = "SSL Password",
        ["sslrootcert"] = "Root Certificate",
        ["target_session_attrs"] = "Target Session Attributes",
        ["user"] = "Username",
    };

    // libpq spells these with dashes; Npgsql's enum does not accept that spelling.
    private static readonly Dictionary<string, SslMode> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = SslMode.Disable,
        ["allow"] = SslMode.Allow,
        ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require,
        ["verify-ca"] = SslMode.VerifyCA,
        ["verify-full"] = SslMode.VerifyFull,
    };

    /// <summary>Parses either form into a new builder.</summary>
    /// <exception cref="FormatException">The text is neither a valid keyword string nor a valid
    /// postgres URL; the message says which part is wrong and never contains the password.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var text = connectionString.Trim();
        if (text.Length == 0)
        {
            throw new FormatException("The connection string is empty; pass Host=...;Username=... or postgres://user@host:port/database.");
        }

        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd > 0 && IsUrlScheme(text.AsSpan(0, schemeEnd)))
        {
            var scheme = text[..schemeEnd];
            if (!scheme.Equals("postgres", StringComparison.OrdinalIgnoreCase)
                && !scheme.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
            {
                throw UrlError($"the scheme '{scheme}' is not supported; use postgres:// or postgresql://");
            }

            return ParseUrl(text[(schemeEnd + 3)..]);
        }

        return ParseKeywords(text);
    }

    /// <summary>A printable form of the connection string: keyword form, any password replaced by <c>***</c>.</summary>
    public static string Redact(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!string.IsNullOrEmpty(copy.Password))
        {
            copy.Password = Redacted;
        }

        if (!string.IsNullOrEmpty(copy.SslPassword))
        {
            copy.SslPassword = Redacted;
        }

        return copy.ConnectionString;
    }

    /// <summary>A printable form of either connection string form; unparseable input is not echoed.</summary>
    public static string Redact(string connectionString)
    {
        try
        {
            return Redact(Parse(connectionString));
        }
        catch (FormatException)
        {
            return "(unparseable connection string)";
        }
    }

    /// <summary>The same server and credentials, pointed at another database; returns the keyword form.</summary>
    /// <exception cref="FormatException">As for <see cref="Parse"/>.</exception>
    public static string WithDatabase(string connectionString, string database)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        var builder = Parse(connectionString);
        builder.Database = database;
        return builder.ConnectionString;
    }

    private static bool IsUrlScheme(ReadOnlySpan<char> scheme)
    {
        // A keyword string can contain "://" inside a value (Options=...); only a leading scheme counts.
        if (!char.IsAsciiLetter(scheme[0]))
        {
            return false;
        }

        foreach (var c in scheme)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static NpgsqlConnectionStringBuilder ParseKeywords(string text)
    {
        var generic = new DbConnectionStringBuilder();
        try
        {
            generic.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            // The framework's message only carries a character index, but it is rephrased so the
            // reader learns which two forms are accepted.
            throw new FormatException("The connection string is neither Key=Value;... pairs nor a postgres:// URL; check quoting and separators.");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        foreach (string key in generic.Keys)
        {
            try
            {
                builder[key] = generic[key];
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                if (!IsKnownKeyword(key))
                {
                    throw new FormatException($"The connection string keyword '{Shorten(key)}' is not an Npgsql keyword; see the Npgsql connection string reference.");
                }

                throw new FormatException($"The connection string value for '{Shorten(key)}' is not valid.");
            }
        }

        return builder;
    }

    private static bool IsKnownKeyword(string key)
    {
        try
        {
            // The indexer getter throws for unknown keywords and returns a default for known ones.
            _ = new NpgsqlConnectionStringBuilder()[key];
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static NpgsqlConnectionStringBuilder ParseUrl(string rest)
    {
        var builder = new NpgsqlConnectionStringBuilder();

        var fragment = rest.IndexOf('#');
        if (fragment >= 0)
        {
            throw UrlError("it contains '#'; percent-encode it as %23");
        }

        string? query = null;
        var questionMark = rest.IndexOf('?');
        if (questionMark >= 0)
        {
            query = rest[(questionMark + 1)..];
            rest = rest[..questionMark];
        }

        var slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        var path = slash >= 0 ? rest[(slash + 1)..] : "";

        // The password may contain '@' only percent-encoded, as in libpq, so the last '@' ends the user info.
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            var user = colon >= 0 ? userInfo[..colon] : userInfo;
            if (user.Length > 0)
            {
                builder.Username = Decode(user, "the user name");
            }

            if (colon >= 0)
            {
                builder.Password = Decode(userInfo[(colon + 1)..], "the password");
            }
        }

        ParseHostAndPort(authority, builder);

        if (path.Contains('/'))
        {
            throw UrlError("the database name contains '/'; percent-encode it as %2F");
        }

        if (path.Length > 0)
        {
            builder.Database = Decode(path, "the database name");
        }

        if (!string.IsNullOrEmpty(query))
        {
            foreach (var pair in query.Split('&'))
            {
                if (pair.Length > 0)
                {
                    ApplyParameter(pair, builder);
                }
            }
        }

        return builder;
    }

    private static void ParseHostAndPort(string authority, NpgsqlConnectionStringBuilder builder)
    {
        if (authority.Contains(','))
        {
            throw UrlError("several hosts are not supported in the URL form; use the keyword form Host=h1:5432,h2:5432");
        }

        string host;
        string? port = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                throw UrlError("an IPv6 address opened with '[' is not closed with ']'");
            }

            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    throw UrlError("unexpected text after the IPv6 address; expected ':port'");
                }

                port = after[1..];
            }
        }
        else
        {
            var colon = authority.IndexOf(':');
            host = colon >= 0 ? authority[..colon] : authority;
            port = colon >= 0 ? authority[(colon + 1)..] : null;
            host = Decode(host, "the host");
        }

        if (host.Length > 0)
        {
            builder.Host = host;
        }

        if (!string.IsNullOrEmpty(port))
        {
            builder.Port = ParsePort(port);
        }
    }

    private static int ParsePort(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw UrlError($"the port '{Shorten(text)}' is not a number between 1 and 65535");
        }

        return port;
    }

    private static void ApplyParameter(string pair, NpgsqlConnectionStringBuilder builder)
    {
        var equals = pair.IndexOf('=');
        if (equals <= 0)
        {
            throw UrlError("a query parameter is not of the form name=value");
        }

        var name = Decode(pair[..equals], "a query parameter name");
        if (!UrlParameters.TryGetValue(name, out var keyword))
        {
            throw UrlError($"the query parameter '{Shorten(name)}' is not supported; use one of {string.Join(", ", UrlParameters.Keys.Order(StringComparer.Ordinal))}, or the keyword form");
        }

        var isSecret = keyword is "Password" or "SSL Password";
        var value = Decode(pair[(equals + 1)..], isSecret ? $"the {name} parameter" : $"the value of {name}");
        if (value.Length == 0)
        {
            throw UrlError($"the query parameter '{name}' has no value");
        }

        switch (keyword)
        {
            case "SSL Mode":
                if (!SslModes.TryGetValue(value, out var mode))
                {
                    throw UrlError($"sslmode '{Shorten(value)}' is not one of {string.Join(", ", SslModes.Keys)}");
                }

                builder.SslMode = mode;
                break;
            case "Port":
                builder.Port = ParsePort(value);
                break;
            default:
                try
                {
                    builder[keyword] = value;
                }
                catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
                {
                    throw UrlError(isSecret ? $"the {name} parameter is not valid" : $"the value '{Shorten(value)}' of {name} is not valid");
                }

                break;
        }
    }

    // libpq rejects malformed escapes instead of passing them through, and so do we: a '%' that
    // silently survives would make the password wrong in a way that is hard to see.
    private static string Decode(string text, string what)
    {
        if (!text.Contains('%'))
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var bytes = new List<byte>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] != '%')
            {
                result.Append(text[i]);
                i++;
                continue;
            }

            // A run of escapes is decoded together: one character may span several of them.
            bytes.Clear();
            while (i < text.Length && text[i] == '%')
            {
                if (i + 2 >= text.Length
                    || !byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
                {
                    throw UrlError($"{what} has a '%' that is not followed by two hex digits");
                }

                bytes.Add(value);
                i += 3;
            }

            try
            {
                result.Append(strictUtf8.GetString(bytes.ToArray()));
            }
            catch (DecoderFallbackException)
            {
                throw UrlError($"{what} is not valid UTF-8 after percent-decoding");
            }
        }

        return result.ToString();
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static FormatException UrlError(string problem) =>
        new($"The postgres URL is not valid: {problem}.");
}

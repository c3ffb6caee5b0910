using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// Reads connection strings the way people hand them over: Npgsql keywords
/// (<c>Host=...;Username=...</c>) or libpq URLs (<c>postgres://user:pass@host:port/db?sslmode=...</c>).
/// </summary>
/// <remarks>
/// Every message this class produces is safe to print: it never contains the password, and never
/// echoes the input, which may hold one. Npgsql has no URL support; <see cref="Uri"/> splits the URL.
/// </remarks>
public static partial class ConnectionStrings
{
    private const string Redacted = "***";

    // libpq URL parameters and the Npgsql keyword each one becomes. Parameters with no faithful
    // Npgsql equivalent are rejected rather than silently dropped.
    private static readonly Dictionary<string, string> UrlParameters = new(StringComparer.Ordinal)
    {
        ["application_name"] = "Application Name", ["client_encoding"] = "Client Encoding", ["connect_timeout"] = "Timeout",
        ["dbname"] = "Database", ["host"] = "Host", ["options"] = "Options", ["password"] = "Password", ["port"] = "Port",
        ["sslcert"] = "SSL Certificate", ["sslkey"] = "SSL Key", ["sslmode"] = "SSL Mode", ["sslpassword"] = "SSL Password",
        ["sslrootcert"] = "Root Certificate", ["target_session_attrs"] = "Target Session Attributes", ["user"] = "Username",
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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

        // A keyword string can contain "://" inside a value (Options=...); only a leading scheme counts.
        if (UrlScheme().Match(text) is not { Success: true } scheme) return ParseKeywords(text);
        if (scheme.Groups[1].Value.ToLowerInvariant() is not ("postgres" or "postgresql"))
        {
            throw UrlError($"the scheme '{Shorten(scheme.Groups[1].Value)}' is not supported; use postgres:// or postgresql://");
        }

        return ParseUrl(text);
    }

    /// <summary>A printable form of the connection string: keyword form, any password replaced by <c>***</c>.</summary>
    public static string Redact(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!string.IsNullOrEmpty(copy.Password)) copy.Password = Redacted;
        if (!string.IsNullOrEmpty(copy.SslPassword)) copy.SslPassword = Redacted;
        return copy.ConnectionString;
    }

    /// <summary>A printable form of either connection string form; unparseable input is not echoed.</summary>
    public static string Redact(string connectionString)
    {
        try { return Redact(Parse(connectionString)); }
        catch (FormatException) { return "(unparseable connection string)"; }
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

    private static NpgsqlConnectionStringBuilder ParseKeywords(string text)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(text);
        }
        catch (ArgumentException e)
        {
            // Npgsql names the keyword it could not set, never the value, which may be the password.
            throw new FormatException(e.ParamName switch
            {
                null => "The connection string is neither Key=Value;... pairs nor a postgres:// URL; check quoting and separators.",
                var key when new NpgsqlConnectionStringBuilder().ContainsKey(key) => $"The connection string value for '{Shorten(key)}' is not valid.",
                var key => $"The connection string keyword '{Shorten(key)}' is not an Npgsql keyword; see the Npgsql connection string reference.",
            }, e);
        }
    }

    private static NpgsqlConnectionStringBuilder ParseUrl(string text)
    {
        // System.Uri re-escapes a stray '%' instead of refusing it, and a password it silently keeps
        // wrong is hard to see: libpq refuses them, and so do we.
        if (BadEscape().IsMatch(text)) throw UrlError("it has a '%' that is not followed by two hex digits");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw UrlError(text.Contains(',')
                ? "several hosts are not supported in the URL form; use the keyword form Host=h1:5432,h2:5432"
                : "check the host and the port (1 to 65535), and percent-encode '@', ':' and '/' inside the user name and password");
        }

        if (uri.Fragment.Length > 0) throw UrlError("it contains '#'; percent-encode it as %23");
        var builder = new NpgsqlConnectionStringBuilder();
        var colon = uri.UserInfo.IndexOf(':');
        var user = colon >= 0 ? uri.UserInfo[..colon] : uri.UserInfo;
        if (user.Length > 0) builder.Username = Decode(user, "the user name");
        if (colon >= 0) builder.Password = Decode(uri.UserInfo[(colon + 1)..], "the password");
        // IdnHost is the host without the brackets of an IPv6 address.
        if (uri.IdnHost.Length > 0) builder.Host = uri.IdnHost;
        if (!uri.IsDefaultPort) builder.Port = uri.Port;

        var path = uri.AbsolutePath.TrimStart('/');
        if (path.Contains('/')) throw UrlError("the database name contains '/'; percent-encode it as %2F");
        if (path.Length > 0) builder.Database = Decode(path, "the database name");
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            ApplyParameter(pair, builder);
        }

        return builder;
    }

    private static void ApplyParameter(string pair, NpgsqlConnectionStringBuilder builder)
    {
        var equals = pair.IndexOf('=');
        if (equals <= 0) throw UrlError("a query parameter is not of the form name=value");
        var name = Decode(pair[..equals], "a query parameter name");
        if (!UrlParameters.TryGetValue(name, out var keyword))
        {
            throw UrlError($"the query parameter '{Shorten(name)}' is not supported; use one of {string.Join(", ", UrlParameters.Keys.Order(StringComparer.Ordinal))}, or the keyword form");
        }

        var isSecret = keyword is "Password" or "SSL Password";
        var value = Decode(pair[(equals + 1)..], isSecret ? $"the {name} parameter" : $"the value of {name}");
        if (value.Length == 0) throw UrlError($"the query parameter '{name}' has no value");
        // libpq spells the modes with dashes (verify-full); Npgsql's enum has none.
        if (keyword == "SSL Mode" && (!Enum.TryParse<SslMode>(value.Replace("-", ""), ignoreCase: true, out _) || char.IsAsciiDigit(value[0])))
        {
            throw UrlError($"sslmode '{Shorten(value)}' is not one of disable, allow, prefer, require, verify-ca, verify-full");
        }

        try
        {
            builder[keyword] = keyword == "SSL Mode" ? value.Replace("-", "") : value;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            throw UrlError(isSecret ? $"the {name} parameter is not valid" : $"the value '{Shorten(value)}' of {name} is not valid");
        }
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
            throw UrlError($"{what} is not valid UTF-8 after percent-decoding");
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static FormatException UrlError(string problem) => new($"The postgres URL is not valid: {problem}.");

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*)://")]
    private static partial Regex UrlScheme();

    [GeneratedRegex("%(?![0-9A-Fa-f]{2})")]
    private static partial Regex BadEscape();
}

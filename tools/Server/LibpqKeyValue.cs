using System.Text;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// libpq's <c>key=value key='quoted \' value'</c> connection strings (what psql and pg_dump take),
/// read by the rules of libpq's <c>conninfo_parse</c>: pairs separated by whitespace, optional
/// whitespace around <c>=</c>, a value either unquoted up to the next whitespace or in single quotes,
/// and a backslash escaping the next character in both.
/// </summary>
/// <remarks>Written by hand: neither .NET nor Npgsql reads this format.</remarks>
internal static class LibpqKeyValue
{
    /// <summary>One <c>key=value</c> pair as written.</summary>
    internal readonly record struct Pair(string Key, string Value, bool Quoted);

    /// <summary>
    /// True when <paramref name="text"/> is meant as a libpq key/value string: its first key is a
    /// libpq keyword (lower case, as libpq requires) and its first value holds no unquoted <c>;</c>
    /// (an Npgsql string, <c>host=db;port=5432</c>, has one there). A lone <c>host=db</c> means the
    /// same in both forms.
    /// </summary>
    public static bool LooksLike(string text)
    {
        var position = 0;
        return Next(text, ref position, out var first) is null
            && first is { } pair
            && (LibpqParameters.Find(pair.Key) is not null || LibpqParameters.IsRefused(pair.Key))
            && (pair.Quoted || !pair.Value.Contains(';', StringComparison.Ordinal));
    }

    /// <summary>The builder a libpq key/value string describes.</summary>
    /// <exception cref="FormatException">The text is malformed or names a parameter coderd-db does not honour; the message never holds the text.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string text)
    {
        try
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var position = 0; ;)
            {
                if (Next(text, ref position, out var pair) is { } problem) throw new FormatException(problem);
                if (pair is not { } found) return LibpqParameters.Build(values, part => part);
                LibpqParameters.Check(found.Key, ("libpq parameter", "a key"), "a value holding spaces must be in single quotes");
                LibpqParameters.Set(values, found.Key, found.Value);
            }
        }
        catch (FormatException e)
        {
            throw new FormatException($"The libpq connection string (key=value ...) is not valid: {e.Message}.");
        }
    }

    /// <summary>Reads the pair at <paramref name="position"/>; returns a problem, or null with <paramref name="pair"/> null at the end.</summary>
    private static string? Next(string text, ref int position, out Pair? pair)
    {
        pair = null;
        SkipSpace(text, ref position);
        if (position == text.Length) return null;

        var keyStart = position;
        while (position < text.Length && text[position] != '=' && !char.IsWhiteSpace(text[position])) position++;
        var key = text[keyStart..position];
        SkipSpace(text, ref position);
        if (position == text.Length || text[position] != '=')
        {
            return "a word has no '=' after it (a value holding spaces must be in single quotes, with \\' for a quote and \\\\ for a backslash)";
        }

        position++;
        SkipSpace(text, ref position);
        var value = new StringBuilder();
        var quoted = position < text.Length && text[position] == '\'';
        if (quoted) position++;
        while (true)
        {
            if (position == text.Length)
            {
                if (quoted) return "a quoted value has no closing quote (write \\' for a quote inside it)";
                break;
            }

            var c = text[position];
            if (!quoted && char.IsWhiteSpace(c)) break;
            position++;
            if (quoted && c == '\'') break;
            if (c == '\\' && position < text.Length) c = text[position++];
            value.Append(c);
        }

        pair = new Pair(key, value.ToString(), quoted);
        return null;
    }

    private static void SkipSpace(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position])) position++;
    }
}

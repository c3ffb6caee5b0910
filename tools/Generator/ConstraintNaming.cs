namespace Coderd.Database.Generator;

/// <summary>How a SQL constraint name becomes a C# enum member name.</summary>
internal static class ConstraintNaming
{
    /// <summary>
    /// Splits on <c>_</c> and upper-cases the first letter of each word, lower-casing the rest, with
    /// no acronym list, so the rule is predictable from the SQL name alone:
    /// <c>mcp_server_configs_oauth2_client_secret_key_id_fkey</c> becomes
    /// <c>McpServerConfigsOauth2ClientSecretKeyIdFkey</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The result is not a C# identifier (empty, starts with a
    /// digit, or holds a character other than an ASCII letter or digit).</exception>
    public static string ToMemberName(string sqlName)
    {
        ArgumentNullException.ThrowIfNull(sqlName);
        var result = new char[sqlName.Length];
        var length = 0;
        var startOfWord = true;
        foreach (var c in sqlName)
        {
            if (c == '_')
            {
                startOfWord = true;
                continue;
            }

            if (!char.IsAsciiLetterOrDigit(c))
            {
                throw NotAnIdentifier(sqlName);
            }

            result[length++] = startOfWord ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c);
            startOfWord = false;
        }

        if (length == 0 || char.IsAsciiDigit(result[0]))
        {
            throw NotAnIdentifier(sqlName);
        }

        return new string(result, 0, length);
    }

    private static ArgumentException NotAnIdentifier(string sqlName) =>
        new($"The constraint name '{sqlName}' does not become a C# identifier (only ASCII letters, digits and '_', not starting with a digit); rename it in a migration.",
            nameof(sqlName));
}

namespace Coderd.Database.Cli;

/// <summary>
/// Passwords this run has seen, so that no output can carry one: every error line is passed
/// through <see cref="Scrub(string)"/> before it is written, whatever produced its text. The CLI's own
/// messages never hold any text of a connection string; this is the net under the server's and the
/// driver's.
/// </summary>
internal static class Secrets
{
    private const string Mask = "***";
    private static readonly List<string> Known = [];

    public static void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret)) return;
        lock (Known)
        {
            if (!Known.Contains(secret)) Known.Add(secret);
        }
    }

    /// <summary>
    /// Masks each known password where it stands as a whole token: not next to a letter or digit.
    /// Masking it inside other words would mangle them and so reveal it (the password <c>e</c>
    /// turns coderd-db into cod***rd-db).
    /// </summary>
    public static string Scrub(string text)
    {
        lock (Known) return Scrub(text, Known);
    }

    /// <summary><see cref="Scrub(string)"/> with the given passwords.</summary>
    internal static string Scrub(string text, IEnumerable<string> secrets)
    {
        // Longest first, so that a password holding a shorter one is masked whole.
        foreach (var secret in secrets.Where(s => s.Length > 0).OrderByDescending(s => s.Length)) text = MaskTokens(text, secret);
        return text;
    }

    private static string MaskTokens(string text, string secret)
    {
        var result = new System.Text.StringBuilder(text.Length);
        var start = 0;
        for (var at = text.IndexOf(secret, StringComparison.Ordinal); at >= 0; at = text.IndexOf(secret, at + 1, StringComparison.Ordinal))
        {
            var end = at + secret.Length;
            if (at < start || (at > 0 && char.IsLetterOrDigit(text[at - 1])) || (end < text.Length && char.IsLetterOrDigit(text[end]))) continue;
            result.Append(text, start, at - start).Append(Mask);
            start = end;
        }

        return result.Append(text, start, text.Length - start).ToString();
    }

    /// <summary>
    /// Whether a command-line word may be a connection string or part of one (it holds <c>=</c>,
    /// <c>@</c>, <c>:</c>, <c>;</c> or whitespace), and so must not be echoed in a usage error:
    /// a connection string passed without <c>--connection</c>, or cut into words by the shell.
    /// </summary>
    public static bool MayBeConnectionText(string word) =>
        word.AsSpan().IndexOfAny("=@:;") >= 0 || word.Any(char.IsWhiteSpace);
}

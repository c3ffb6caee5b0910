namespace Coderd.Database.Cli;

/// <summary>
/// Passwords this run has seen, so that no output can carry one: every error line is passed
/// through <see cref="Scrub"/> before it is written, whatever produced its text.
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

    public static string Scrub(string text)
    {
        lock (Known)
        {
            foreach (var secret in Known) text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>
    /// Hides the password inside a command-line token that looks like a connection string: the
    /// parser echoes unexpected tokens, and a connection string passed without --connection is one.
    /// </summary>
    public static string ScrubToken(string message, string token)
    {
        var secretBearing = token.Contains("://", StringComparison.Ordinal) && token.Contains('@')
            || token.Contains("password", StringComparison.OrdinalIgnoreCase);
        return secretBearing ? message.Replace(token, Server.ConnectionStrings.Redact(token), StringComparison.Ordinal) : message;
    }
}

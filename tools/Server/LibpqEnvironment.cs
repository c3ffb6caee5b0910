using System.Globalization;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// libpq's <c>PG*</c> environment variables, honoured as psql honours them: each is a default
/// under what the connection string says, then libpq's own defaults fill what is still missing.
/// </summary>
/// <remarks>
/// Npgsql reads some of these itself, but only for keywords the connection string leaves unset, and
/// not <c>PGHOST</c>, <c>PGPORT</c>, <c>PGDATABASE</c>, <c>PGSSLMODE</c> or <c>PGCONNECT_TIMEOUT</c>.
/// Setting every honoured one on the builder here makes the builder the whole connection: Npgsql
/// reads nothing twice, and what is printed (which database) and handed to pg_dump is what Npgsql
/// connects to. An empty variable counts as unset, as in libpq.
/// </remarks>
public static class LibpqEnvironment
{
    // Where libpq looks for a Unix socket by default (Debian's folder, then the compiled-in one).
    private static readonly string[] SocketFolders = ["/var/run/postgresql", "/tmp"];

    /// <summary>The variables honoured, each as the libpq parameter of the same meaning.</summary>
    public static IReadOnlyList<string> Honoured { get; } = [.. LibpqParameters.Honoured.Select(p => p.Variable).OfType<string>()];

    /// <summary>libpq's other connection variables: each would change the connection and is not honoured, so a run refuses to start while one is set.</summary>
    public static IReadOnlyList<string> Refused { get; } = [.. LibpqParameters.Refused.Select(p => p.Variable).OfType<string>()];

    /// <summary>The first refused variable that is set; null when none is.</summary>
    public static string? FirstRefused(Func<string, string?> variable) => Refused.FirstOrDefault(name => variable(name) is { Length: > 0 });

    /// <summary>The honoured variables that are set.</summary>
    public static IReadOnlyList<string> SetVariables(Func<string, string?> variable) => [.. Honoured.Where(name => variable(name) is { Length: > 0 })];

    /// <summary>
    /// Fills what <paramref name="builder"/> leaves unset from the honoured variables, then from
    /// libpq's defaults: the host is <see cref="DefaultHost"/>, the user the OS user, the database
    /// named after the user.
    /// </summary>
    /// <returns>The variables that were used.</returns>
    /// <exception cref="FormatException">A variable's value is not valid; the message names the variable, not the value.</exception>
    public static IReadOnlyList<string> ApplyDefaults(NpgsqlConnectionStringBuilder builder, Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var used = new List<string>();
        string? Take(LibpqParameters.Parameter parameter)
        {
            if (parameter.Variable is not { } name || variable(name) is not { Length: > 0 } value) return null;
            used.Add(name);
            return value;
        }

        var (host, port) = (LibpqParameters.Find("host")!, LibpqParameters.Find("port")!);
        var (hostSet, portSet) = (ConnectionStrings.IsSet(builder, host.NpgsqlKeyword), ConnectionStrings.IsSet(builder, port.NpgsqlKeyword));
        var hosts = hostSet ? null : Take(host);
        if (hosts is not null || !portSet)
        {
            LibpqParameters.SetHostAndPort(builder, hosts, portSet ? builder.Port.ToString(CultureInfo.InvariantCulture) : Take(port),
                host.Variable!, portSet ? "the port" : port.Variable!);
        }

        if (!hostSet && builder.Host is null) builder.Host = DefaultHost(builder.Port);
        foreach (var parameter in LibpqParameters.Honoured.Where(p => p != host && p != port && !ConnectionStrings.IsSet(builder, p.NpgsqlKeyword)))
        {
            if (Take(parameter) is { } value) LibpqParameters.Apply(builder, parameter, value, parameter.Variable!);
        }

        builder.Username ??= Environment.UserName;
        builder.Database ??= builder.Username;
        return used;
    }

    /// <summary>libpq's default host: the folder of a listening Unix socket for <paramref name="port"/> (<c>/var/run/postgresql</c>, then <c>/tmp</c>), else <c>localhost</c>.</summary>
    public static string DefaultHost(int port) =>
        SocketFolders.FirstOrDefault(folder => File.Exists(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $".s.PGSQL.{port}")))) ?? "localhost";
}

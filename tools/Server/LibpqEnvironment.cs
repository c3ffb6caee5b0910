using System.Globalization;
using Npgsql;

namespace Coderd.Database.Server;

/// <summary>
/// libpq's <c>PG*</c> environment variables, honoured as psql honours them: each is a default
/// under what the connection string says, then libpq's own defaults fill what is still missing
/// (the host, the user, the database).
/// </summary>
/// <remarks>
/// Npgsql reads some of these variables itself (<c>PGUSER</c>, <c>PGPASSWORD</c>, <c>PGPASSFILE</c>,
/// the certificate ones, <c>PGOPTIONS</c>, <c>PGAPPNAME</c>, <c>PGTARGETSESSIONATTRS</c>,
/// <c>PGCLIENTENCODING</c>), but only for keywords the connection string leaves unset, and not
/// <c>PGHOST</c>, <c>PGPORT</c>, <c>PGDATABASE</c>, <c>PGSSLMODE</c> or <c>PGCONNECT_TIMEOUT</c>.
/// Setting every honoured one on the builder here makes the builder the whole connection: Npgsql
/// then finds each keyword set and reads nothing twice, and what is printed (which database) and
/// handed to pg_dump is what Npgsql connects to.
/// </remarks>
public static class LibpqEnvironment
{
    /// <summary>The variables honoured, each as the libpq parameter of the same meaning.</summary>
    public static IReadOnlyList<string> Honoured { get; } =
        [.. LibpqParameters.Honoured.Where(p => p.Variable is not null).Select(p => p.Variable!)];

    /// <summary>
    /// libpq's other connection variables: each would change the connection and is not honoured,
    /// so a run refuses to start while one is set.
    /// </summary>
    public static IReadOnlyList<string> Refused { get; } =
        [.. LibpqParameters.Refused.Where(p => p.Variable is not null).Select(p => p.Variable!)];

    /// <summary>The first refused variable that is set (non-empty); null when none is.</summary>
    public static string? FirstRefused(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return Refused.FirstOrDefault(name => variable(name) is { Length: > 0 });
    }

    /// <summary>The honoured variables that are set (non-empty: libpq treats an empty one as unset).</summary>
    public static IReadOnlyList<string> SetVariables(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return [.. Honoured.Where(name => variable(name) is { Length: > 0 })];
    }

    /// <summary>
    /// Fills what <paramref name="builder"/> leaves unset from the honoured variables, then from
    /// libpq's defaults: the host is the Unix socket folder where a server listens
    /// (<c>/var/run/postgresql</c>, then <c>/tmp</c>), else <c>localhost</c>; the user is the OS
    /// user; the database is named after the user.
    /// </summary>
    /// <returns>The variables that were used.</returns>
    /// <exception cref="FormatException">A variable's value is not valid; the message names the variable, not the value.</exception>
    public static IReadOnlyList<string> ApplyDefaults(NpgsqlConnectionStringBuilder builder, Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(variable);
        var used = new List<string>();
        string? Take(LibpqParameters.Parameter parameter)
        {
            if (parameter.Variable is not { } name || variable(name) is not { Length: > 0 } value) return null;
            used.Add(name);
            return value;
        }

        var hostVariable = LibpqParameters.Find(LibpqParameters.Host)!;
        var portVariable = LibpqParameters.Find(LibpqParameters.Port)!;
        var hostSet = ConnectionStrings.IsSet(builder, hostVariable.NpgsqlKeyword);
        var portSet = ConnectionStrings.IsSet(builder, portVariable.NpgsqlKeyword);
        if (!hostSet && Take(hostVariable) is { } hosts)
        {
            var ports = portSet ? builder.Port.ToString(CultureInfo.InvariantCulture) : Take(portVariable);
            LibpqParameters.SetEndpoints(builder, hosts, ports, hostVariable.Variable!, portSet ? "the port" : portVariable.Variable!);
        }
        else if (!portSet && Take(portVariable) is { } ports)
        {
            var list = LibpqParameters.ParsePorts(ports, portVariable.Variable!);
            if (list.Count > 1)
            {
                throw new FormatException($"{portVariable.Variable} lists several ports, which goes only with a list of hosts in {hostVariable.Variable}");
            }

            if (list[0] is { } port) builder.Port = port;
        }

        if (!hostSet && builder.Host is null) builder.Host = DefaultHost(builder.Port);

        foreach (var parameter in LibpqParameters.Honoured)
        {
            if (parameter == hostVariable || parameter == portVariable || ConnectionStrings.IsSet(builder, parameter.NpgsqlKeyword)) continue;
            if (Take(parameter) is { } value) LibpqParameters.Apply(builder, parameter, value, parameter.Variable!);
        }

        builder.Username ??= Environment.UserName;
        builder.Database ??= builder.Username;
        return used;
    }

    /// <summary>Where libpq looks for a Unix socket by default (Debian's folder, then the compiled-in one).</summary>
    private static readonly string[] SocketFolders = ["/var/run/postgresql", "/tmp"];

    /// <summary>libpq's default host: the folder of a listening Unix socket for <paramref name="port"/>, else <c>localhost</c>.</summary>
    public static string DefaultHost(int port) =>
        SocketFolders.FirstOrDefault(folder => File.Exists(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $".s.PGSQL.{port}"))))
        ?? "localhost";
}

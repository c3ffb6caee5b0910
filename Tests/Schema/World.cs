using System.Text.RegularExpressions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The minimal valid parents a row of any constrained table needs: one organisation, its owner,
/// a template and version, a provisioner job and a resource of it, a workspace, a chat provider
/// (<c>openai</c>), a model config of it and an active dbcrypt key. SQL passed to
/// <see cref="ExecuteAsync"/> names them as parameters: <c>@org</c>, <c>@owner</c>, <c>@template</c>,
/// <c>@version</c>, <c>@job</c>, <c>@resource</c>, <c>@workspace</c>, <c>@model</c>, <c>@digest</c>.
/// </summary>
internal sealed class World
{
    public const string Provider = "openai";
    public const string KeyDigest = "digest-active-1";

    private World(NpgsqlConnection connection) => Connection = connection;

    public NpgsqlConnection Connection { get; }
    public Guid Org { get; } = Guid.NewGuid();
    public Guid Owner { get; } = Guid.NewGuid();
    public Guid Template { get; } = Guid.NewGuid();
    public Guid Version { get; } = Guid.NewGuid();
    public Guid Job { get; } = Guid.NewGuid();
    public Guid Resource { get; } = Guid.NewGuid();
    public Guid Workspace { get; } = Guid.NewGuid();
    public Guid Model { get; } = Guid.NewGuid();

    /// <summary>Inserts the parents into an empty database.</summary>
    public static async Task<World> CreateAsync(NpgsqlConnection connection)
    {
        var world = new World(connection);
        await world.ExecuteAsync("""
            INSERT INTO organizations (id, name, description, created_at, updated_at, display_name)
                VALUES (@org, 'acme', '', now(), now(), 'Acme');
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
                VALUES (@owner, 'owner@example.com', 'owner', '\x00', now(), now());
            INSERT INTO templates (id, created_at, updated_at, organization_id, name, provisioner, active_version_id, created_by)
                VALUES (@template, now(), now(), @org, 'docker', 'terraform', @version, @owner);
            INSERT INTO template_versions (id, template_id, organization_id, created_at, updated_at, name, readme, job_id, created_by)
                VALUES (@version, @template, @org, now(), now(), 'v1', '', @job, @owner);
            INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, storage_method, type, input, file_id)
                VALUES (@job, now(), now(), @org, @owner, 'terraform', 'file', 'workspace_build', '{}', gen_random_uuid());
            INSERT INTO workspace_resources (id, created_at, job_id, transition, type, name)
                VALUES (@resource, now(), @job, 'start', 'docker_container', 'dev');
            INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name)
                VALUES (@workspace, now(), now(), @owner, @org, @template, 'dev');
            INSERT INTO chat_providers (provider) VALUES ('openai');
            INSERT INTO chat_model_configs (id, provider, model, context_limit, compression_threshold)
                VALUES (@model, 'openai', 'gpt-5', 400000, 70);
            INSERT INTO dbcrypt_keys (number, active_key_digest, test) VALUES (1, @digest, 'coder');
            """);
        return world;
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) with the parents' ids bound; returns the rows affected.</summary>
    public async Task<int> ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);

        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Runs a query with the parents' ids bound and returns its single value.</summary>
    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);

        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Inserts a user with a unique username and e-mail and returns its id.</summary>
    public async Task<Guid> UserAsync(string username)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at)
            VALUES (@id, @username || '@example.com', @username, '\x00', now(), now())
            """, ("id", id), ("username", username));
        return id;
    }

    /// <summary>Inserts an MCP server config and returns its id.</summary>
    public async Task<Guid> McpConfigAsync(string slug, Guid? createdBy = null)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO mcp_server_configs (id, display_name, slug, url, created_by, updated_by)
            VALUES (@id, @slug, @slug, 'https://mcp.example.com/' || @slug, @by, @by)
            """, ("id", id), ("slug", slug), ("by", createdBy));
        return id;
    }

    /// <summary>Inserts a chat owned by <paramref name="owner"/> on the world's model config and returns its id.</summary>
    public async Task<Guid> ChatAsync(Guid owner, string title = "hello")
    {
        var id = Guid.NewGuid();
        await ExecuteAsync(
            "INSERT INTO chats (id, owner_id, title, last_model_config_id) VALUES (@id, @user, @title, @model)",
            ("id", id), ("user", owner), ("title", title));
        return id;
    }

    /// <summary>
    /// An INSERT of an API key for the owner with <paramref name="allowList"/> (an SQL literal). Each
    /// gets a fresh id and a password login type, so that any number of them can be inserted.
    /// </summary>
    public static string ApiKeySql(string allowList) =>
        "INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, scopes, allow_list) " +
        $"VALUES ('key-' || gen_random_uuid(), '\\x00', @owner, now(), now() + interval '1 day', now(), now(), 'password', '{{all}}', {allowList})";

    private NpgsqlCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, Connection);
        foreach (var (name, value) in Parameters().Concat(parameters))
        {
            // Bind only what the SQL names: a statement that does not use @org must not get it.
            if (Regex.IsMatch(sql, $@"@{name}\b")) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private IEnumerable<(string, object?)> Parameters() =>
    [
        ("org", Org), ("owner", Owner), ("template", Template), ("version", Version), ("job", Job),
        ("resource", Resource), ("workspace", Workspace), ("model", Model), ("digest", KeyDigest),
    ];
}

using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Inserts the rows the behaviour tests of the functions, triggers and views stand on: one method
/// per table, every required column filled with a plain value, unique names drawn from a counter,
/// and the new row's id returned. What a test is about it passes explicitly; the rest is filler.
/// </summary>
/// <remarks>Rows go through the test's own connection, so they share its transaction if one is open.</remarks>
internal sealed class Rows(NpgsqlConnection connection)
{
    private int serial;

    public NpgsqlConnection Connection => connection;

    /// <summary>Runs one or more statements with named parameters; returns the rows affected.</summary>
    public async Task<int> ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Runs a query and returns the first column of its first row (<c>default</c> for SQL NULL).</summary>
    public async Task<T?> ScalarAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    /// <summary>Runs a query and returns the first column of every row, in the query's order.</summary>
    public async Task<List<T?>> ColumnAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<T?>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.IsDBNull(0) ? default : reader.GetFieldValue<T>(0));
        }

        return values;
    }

    /// <summary>Inserts an organization (which gets its two system roles from the trigger).</summary>
    public async Task<Guid> OrganizationAsync(Guid? id = null, bool deleted = false)
    {
        var org = id ?? Guid.NewGuid();
        var name = Name("org");
        await ExecuteAsync("""
            INSERT INTO organizations (id, name, description, created_at, updated_at, display_name, icon, deleted)
            VALUES (@id, @name, 'about ' || @name, now(), now(), upper(@name), @name || '.svg', @deleted)
            """, ("id", org), ("name", name), ("deleted", deleted));
        return org;
    }

    /// <summary>Inserts a user named <c>user&lt;n&gt;</c>, with name <c>User &lt;n&gt;</c> and avatar <c>https://a/user&lt;n&gt;</c>.</summary>
    public async Task<Guid> UserAsync(bool deleted = false, string status = "active")
    {
        var id = Guid.NewGuid();
        var name = Name("user");
        await ExecuteAsync("""
            INSERT INTO users (id, email, username, name, avatar_url, hashed_password, created_at, updated_at, status, deleted)
            VALUES (@id, @name || '@example.com', @name, 'User ' || @name, 'https://a/' || @name, '\x01', now(), now(),
                    @status::user_status, @deleted)
            """, ("id", id), ("name", name), ("status", status), ("deleted", deleted));
        return id;
    }

    /// <summary>Makes <paramref name="user"/> a member of <paramref name="org"/> holding <paramref name="roles"/>.</summary>
    public Task MemberAsync(Guid org, Guid user, params string[] roles) => ExecuteAsync("""
        INSERT INTO organization_members (user_id, organization_id, created_at, updated_at, roles)
        VALUES (@user, @org, now(), now(), @roles)
        """, ("user", user), ("org", org), ("roles", roles));

    /// <summary>Inserts a group of <paramref name="org"/>; pass <c>id: org</c> for its "Everyone" group.</summary>
    public async Task<Guid> GroupAsync(Guid org, Guid? id = null)
    {
        var group = id ?? Guid.NewGuid();
        var name = Name("group");
        await ExecuteAsync(
            "INSERT INTO groups (id, name, organization_id, avatar_url) VALUES (@id, @name, @org, 'https://g/' || @name)",
            ("id", group), ("name", name), ("org", org));
        return group;
    }

    public Task GroupMemberAsync(Guid group, Guid user) =>
        ExecuteAsync("INSERT INTO group_members (user_id, group_id) VALUES (@user, @group)", ("user", user), ("group", group));

    /// <summary>Inserts a provisioner job of <paramref name="org"/>, pending unless the times say otherwise.</summary>
    public async Task<Guid> JobAsync(Guid org, Guid initiator, string type = "workspace_build")
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, storage_method, type, input, file_id)
            VALUES (@id, now(), now(), @org, @initiator, 'terraform', 'file', @type::provisioner_job_type, '{}', gen_random_uuid())
            """, ("id", id), ("org", org), ("initiator", initiator), ("type", type));
        return id;
    }

    /// <summary>Inserts a template version (with a template import job of its own) created by <paramref name="createdBy"/>.</summary>
    public async Task<Guid> VersionAsync(Guid org, Guid? template, Guid createdBy)
    {
        var id = Guid.NewGuid();
        var job = await JobAsync(org, createdBy, "template_version_import");
        await ExecuteAsync("""
            INSERT INTO template_versions (id, template_id, organization_id, created_at, updated_at, name, readme, job_id, created_by)
            VALUES (@id, @template, @org, now(), now(), @name, '', @job, @by)
            """, ("id", id), ("template", Typed(template)), ("org", org), ("name", Name("v")), ("job", job), ("by", createdBy));
        return id;
    }

    /// <summary>Inserts a template of <paramref name="org"/> and its active version; returns both ids.</summary>
    public async Task<(Guid Template, Guid Version)> TemplateAsync(Guid org, Guid createdBy, bool deleted = false)
    {
        var template = Guid.NewGuid();
        var version = Guid.NewGuid();
        var name = Name("template");
        await ExecuteAsync("""
            INSERT INTO templates (id, created_at, updated_at, organization_id, deleted, name, provisioner, active_version_id, created_by,
                                   description, icon, display_name)
            VALUES (@id, now(), now(), @org, @deleted, @name, 'terraform', @version, @by, 'about ' || @name, @name || '.png', upper(@name))
            """, ("id", template), ("org", org), ("deleted", deleted), ("name", name), ("version", version), ("by", createdBy));
        var job = await JobAsync(org, createdBy, "template_version_import");
        await ExecuteAsync("""
            INSERT INTO template_versions (id, template_id, organization_id, created_at, updated_at, name, readme, job_id, created_by)
            VALUES (@id, @template, @org, now(), now(), 'v1', '', @job, @by)
            """, ("id", version), ("template", template), ("org", org), ("job", job), ("by", createdBy));
        return (template, version);
    }

    /// <summary>Inserts a workspace named <c>ws&lt;n&gt;</c>; the organization is the template's.</summary>
    public async Task<Guid> WorkspaceAsync(Guid owner, Guid template, bool deleted = false)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO workspaces (id, created_at, updated_at, owner_id, organization_id, template_id, name, deleted)
            SELECT @id, now(), now(), @owner, templates.organization_id, @template, @name, @deleted
            FROM templates WHERE templates.id = @template
            """, ("id", id), ("owner", owner), ("template", template), ("name", Name("ws")), ("deleted", deleted));
        return id;
    }

    /// <summary>
    /// Inserts build <paramref name="number"/> of <paramref name="workspace"/> with a job of its own
    /// (pending: no start, completion or error); returns the build's and the job's ids.
    /// </summary>
    public async Task<(Guid Build, Guid Job)> BuildAsync(
        Guid workspace, Guid version, int number, string transition = "start", Guid? initiator = null, Guid? preset = null)
    {
        var build = Guid.NewGuid();
        var job = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO provisioner_jobs (id, created_at, updated_at, organization_id, initiator_id, provisioner, storage_method, type, input, file_id)
            SELECT @job, now(), now(), workspaces.organization_id, COALESCE(@initiator, workspaces.owner_id), 'terraform', 'file', 'workspace_build', '{}', gen_random_uuid()
            FROM workspaces WHERE workspaces.id = @workspace;
            INSERT INTO workspace_builds (id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, initiator_id, job_id,
                                          template_version_preset_id)
            SELECT @build, now(), now(), @workspace, @version, @number, @transition::workspace_transition, COALESCE(@initiator, workspaces.owner_id), @job,
                   @preset
            FROM workspaces WHERE workspaces.id = @workspace
            """,
            ("build", build), ("job", job), ("workspace", workspace), ("version", version), ("number", number),
            ("transition", transition), ("initiator", Typed(initiator)), ("preset", Typed(preset)));
        return (build, job);
    }

    /// <summary>Inserts a resource of <paramref name="job"/>.</summary>
    public async Task<Guid> ResourceAsync(Guid job)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO workspace_resources (id, created_at, job_id, transition, type, name)
            VALUES (@id, now(), @job, 'start', 'docker_container', @name)
            """, ("id", id), ("job", job), ("name", Name("res")));
        return id;
    }

    /// <summary>The INSERT of one agent, with parameters <c>@id</c>, <c>@resource</c>, <c>@name</c>, <c>@deleted</c>, <c>@lifecycle</c>.</summary>
    private const string AgentSql = """
        INSERT INTO workspace_agents (id, created_at, updated_at, name, resource_id, auth_token, architecture, operating_system, deleted, lifecycle_state)
        VALUES (@id, now(), now(), @name, @resource, gen_random_uuid(), 'amd64', 'linux', @deleted, @lifecycle::workspace_agent_lifecycle_state)
        """;

    /// <summary>Inserts an agent on <paramref name="resource"/>.</summary>
    public async Task<Guid> AgentAsync(Guid resource, string name, bool deleted = false, string lifecycle = "created")
    {
        var id = Guid.NewGuid();
        await ExecuteAsync(AgentSql, ("id", id), ("resource", resource), ("name", name), ("deleted", deleted), ("lifecycle", lifecycle));
        return id;
    }

    /// <summary>Inserts an app of <paramref name="agent"/> with <paramref name="health"/>.</summary>
    public async Task<Guid> AppAsync(Guid agent, string health)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO workspace_apps (id, created_at, agent_id, display_name, icon, slug, health)
            VALUES (@id, now(), @agent, 'App', '', @slug, @health::workspace_app_health)
            """, ("id", id), ("agent", agent), ("slug", Name("app")), ("health", health));
        return id;
    }

    /// <summary>The INSERT of one API key, with parameters <c>@id</c> and <c>@user</c>.</summary>
    private const string ApiKeySql = """
        INSERT INTO api_keys (id, hashed_secret, user_id, last_used, expires_at, created_at, updated_at, login_type, scopes, allow_list)
        VALUES (@id, '\x01', @user, now(), now() + interval '1 day', now(), now(), 'password', '{coder:all}', '{*}')
        """;

    /// <summary>Inserts an API key of <paramref name="user"/> and returns its id.</summary>
    public async Task<string> ApiKeyAsync(Guid user)
    {
        var id = Name("key");
        await ExecuteAsync(ApiKeySql, ("id", id), ("user", user));
        return id;
    }

    /// <summary>The INSERT of one user link, with parameters <c>@user</c> and <c>@login</c> (a <c>login_type</c> label).</summary>
    private const string UserLinkSql =
        "INSERT INTO user_links (user_id, login_type, linked_id) VALUES (@user, @login::login_type, 'linked-' || gen_random_uuid())";

    public Task UserLinkAsync(Guid user, string login = "github") =>
        ExecuteAsync(UserLinkSql, ("user", user), ("login", login));

    /// <summary>A fresh name with <paramref name="prefix"/>, unique within this instance's rows.</summary>
    public string Name(string prefix) => $"{prefix}{++serial}";

    /// <summary>A nullable uuid bound with its type, so that a NULL needs no cast in the SQL.</summary>
    private static NpgsqlParameter Typed(Guid? value) =>
        new() { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid, Value = value is { } id ? id : DBNull.Value };

    private NpgsqlCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            if (value is NpgsqlParameter parameter)
            {
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }
            else
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
        }

        return command;
    }
}

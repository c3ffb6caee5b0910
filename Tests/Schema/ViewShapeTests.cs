using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The shape of the views of <see cref="M2026_02_23_0001_CreateUserViews"/> to
/// <see cref="M2026_02_23_0005_CreateProvisionerJobStatsView"/>: every column's name and type
/// (typmod included) in order, the dependencies behavior.md 3.1 names, and the comments DBAs read on
/// views, triggers, functions and the <c>tagset</c> domain. Reads the catalog only: no reset.
/// </summary>
public sealed class ViewShapeTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    /// <summary>View name, then its columns as "name type", one per line, in order (behavior.md 3.3 to 3.13).</summary>
    public static TheoryData<string, string> Columns { get; } = new()
    {
        { "visible_users", """
            id uuid
            username text
            name text
            avatar_url text
            """ },
        { "group_members_expanded", """
            user_id uuid
            user_email text
            user_username text
            user_hashed_password bytea
            user_created_at timestamp with time zone
            user_updated_at timestamp with time zone
            user_status user_status
            user_rbac_roles text[]
            user_login_type login_type
            user_avatar_url text
            user_deleted boolean
            user_last_seen_at timestamp without time zone
            user_quiet_hours_schedule text
            user_name text
            user_github_com_user_id bigint
            user_is_system boolean
            organization_id uuid
            group_name text
            group_id uuid
            """ },
        { "template_version_with_user", """
            id uuid
            template_id uuid
            organization_id uuid
            created_at timestamp with time zone
            updated_at timestamp with time zone
            name character varying(64)
            readme character varying(1048576)
            job_id uuid
            created_by uuid
            external_auth_providers jsonb
            message character varying(1048576)
            archived boolean
            source_example_id text
            has_ai_task boolean
            has_external_agent boolean
            created_by_avatar_url text
            created_by_username text
            created_by_name text
            """ },
        { "template_with_names", """
            id uuid
            created_at timestamp with time zone
            updated_at timestamp with time zone
            organization_id uuid
            deleted boolean
            name character varying(64)
            provisioner provisioner_type
            active_version_id uuid
            description character varying(128)
            default_ttl bigint
            created_by uuid
            icon character varying(256)
            user_acl jsonb
            group_acl jsonb
            display_name character varying(64)
            allow_user_cancel_workspace_jobs boolean
            allow_user_autostart boolean
            allow_user_autostop boolean
            failure_ttl bigint
            time_til_dormant bigint
            time_til_dormant_autodelete bigint
            autostop_requirement_days_of_week smallint
            autostop_requirement_weeks bigint
            autostart_block_days_of_week smallint
            require_active_version boolean
            deprecated text
            activity_bump bigint
            max_port_sharing_level app_sharing_level
            use_classic_parameter_flow boolean
            cors_behavior cors_behavior
            disable_module_cache boolean
            created_by_avatar_url text
            created_by_username text
            created_by_name text
            organization_name text
            organization_display_name text
            organization_icon text
            """ },
        { "workspace_build_with_user", """
            id uuid
            created_at timestamp with time zone
            updated_at timestamp with time zone
            workspace_id uuid
            template_version_id uuid
            build_number integer
            transition workspace_transition
            initiator_id uuid
            job_id uuid
            deadline timestamp with time zone
            reason build_reason
            daily_cost integer
            max_deadline timestamp with time zone
            template_version_preset_id uuid
            has_ai_task boolean
            has_external_agent boolean
            initiator_by_avatar_url text
            initiator_by_username text
            initiator_by_name text
            """ },
        { "workspace_latest_builds", """
            id uuid
            workspace_id uuid
            template_version_id uuid
            job_id uuid
            template_version_preset_id uuid
            transition workspace_transition
            created_at timestamp with time zone
            job_status provisioner_job_status
            """ },
        { "workspace_prebuild_builds", """
            id uuid
            workspace_id uuid
            template_version_id uuid
            transition workspace_transition
            job_id uuid
            template_version_preset_id uuid
            build_number integer
            """ },
        { "workspace_prebuilds", """
            id uuid
            name character varying(64)
            template_id uuid
            created_at timestamp with time zone
            ready boolean
            current_preset_id uuid
            """ },
        { "workspaces_expanded", """
            id uuid
            created_at timestamp with time zone
            updated_at timestamp with time zone
            owner_id uuid
            organization_id uuid
            template_id uuid
            deleted boolean
            name character varying(64)
            autostart_schedule text
            ttl bigint
            last_used_at timestamp with time zone
            dormant_at timestamp with time zone
            deleting_at timestamp with time zone
            automatic_updates automatic_updates
            favorite boolean
            next_start_at timestamp with time zone
            group_acl jsonb
            user_acl jsonb
            owner_avatar_url text
            owner_username text
            owner_name text
            organization_name text
            organization_display_name text
            organization_icon text
            organization_description text
            template_name character varying(64)
            template_display_name character varying(64)
            template_icon character varying(256)
            template_description character varying(128)
            task_id uuid
            group_acl_display_info jsonb
            user_acl_display_info jsonb
            """ },
        { "tasks_with_status", """
            id uuid
            organization_id uuid
            owner_id uuid
            name text
            workspace_id uuid
            template_version_id uuid
            template_parameters jsonb
            prompt text
            created_at timestamp with time zone
            deleted_at timestamp with time zone
            display_name character varying(127)
            workspace_group_acl jsonb
            workspace_user_acl jsonb
            status task_status
            status_debug jsonb
            workspace_build_number integer
            workspace_agent_id uuid
            workspace_app_id uuid
            workspace_agent_lifecycle_state workspace_agent_lifecycle_state
            workspace_app_health workspace_app_health
            owner_username text
            owner_name text
            owner_avatar_url text
            """ },
        { "provisioner_job_stats", """
            job_id uuid
            job_status provisioner_job_status
            workspace_id uuid
            worker_id uuid
            error text
            error_code text
            updated_at timestamp with time zone
            queued_secs double precision
            completion_secs double precision
            canceled_secs double precision
            init_secs double precision
            plan_secs double precision
            graph_secs double precision
            apply_secs double precision
            """ },
    };

    [Theory]
    [MemberData(nameof(Columns))]
    public async Task ViewHasTheSpecsColumnsInOrder(string view, string columns)
    {
        var actual = await ListAsync("""
            SELECT attname || ' ' || format_type(atttypid, atttypmod)
            FROM pg_attribute
            WHERE attrelid = ('public.' || @view)::regclass AND attnum > 0 AND NOT attisdropped
            ORDER BY attnum
            """, ("view", view));

        Assert.Equal(columns.Split('\n'), actual);
    }

    [Fact]
    public async Task EveryViewOfTheSchemaIsListed()
    {
        var views = await ListAsync("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'v' ORDER BY relname");

        Assert.Equal(Columns.Select(row => row.Data.Item1).Order(StringComparer.Ordinal), views);
    }

    [Fact]
    public async Task DroppingVisibleUsersWithoutCascadeIsRefusedWhileFiveViewsUseIt()
    {
        var dependents = await ListAsync("""
            SELECT DISTINCT dependent.relname
            FROM pg_depend AS d
            JOIN pg_rewrite AS r ON r.oid = d.objid
            JOIN pg_class AS dependent ON dependent.oid = r.ev_class
            WHERE d.refobjid = 'public.visible_users'::regclass AND dependent.oid <> d.refobjid
            ORDER BY 1
            """);
        Assert.Equal(
            ["tasks_with_status", "template_version_with_user", "template_with_names", "workspace_build_with_user", "workspaces_expanded"],
            dependents);

        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using var drop = new NpgsqlCommand("DROP VIEW visible_users", connection, transaction);
        var error = await Assert.ThrowsAsync<PostgresException>(() => drop.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        Assert.Equal(PostgresErrorCodes.DependentObjectsStillExist, error.SqlState);
    }

    [Fact]
    public async Task ProvisionerJobStatsDependsOnTheJobsPrimaryKey()
    {
        var constraints = await ListAsync("""
            SELECT c.conname
            FROM pg_depend AS d
            JOIN pg_rewrite AS r ON r.oid = d.objid
            JOIN pg_constraint AS c ON c.oid = d.refobjid AND d.refclassid = 'pg_constraint'::regclass
            WHERE r.ev_class = 'public.provisioner_job_stats'::regclass
            """);

        Assert.Equal(["provisioner_jobs_pkey"], constraints);
    }

    [Fact]
    public async Task WorkspacePrebuildsReadsWorkspaceLatestBuilds()
    {
        var read = await ListAsync("""
            SELECT DISTINCT d.refobjid::regclass::text
            FROM pg_depend AS d
            JOIN pg_rewrite AS r ON r.oid = d.objid
            WHERE r.ev_class = 'public.workspace_prebuilds'::regclass AND d.refobjid = 'public.workspace_latest_builds'::regclass
            """);

        Assert.Equal(["workspace_latest_builds"], read);
    }

    /// <summary>The objects behavior.md section 0 says carry a comment, as <c>pg_description</c> finds them.</summary>
    public static TheoryData<string, string> Commented { get; } = new()
    {
        { "function", "SELECT obj_description('public.compute_notification_message_dedupe_hash()'::regprocedure, 'pg_proc')" },
        { "function", "SELECT obj_description('public.provisioner_tagset_contains(public.tagset, public.tagset)'::regprocedure, 'pg_proc')" },
        { "trigger", "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE tgname = 'remove_organization_member_custom_role' AND tgrelid = 'public.custom_roles'::regclass" },
        { "trigger", "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE tgname = 'workspace_agent_name_unique_trigger' AND tgrelid = 'public.workspace_agents'::regclass" },
        { "view", "SELECT obj_description('public.visible_users'::regclass, 'pg_class')" },
        { "view", "SELECT obj_description('public.group_members_expanded'::regclass, 'pg_class')" },
        { "view", "SELECT obj_description('public.template_version_with_user'::regclass, 'pg_class')" },
        { "view", "SELECT obj_description('public.template_with_names'::regclass, 'pg_class')" },
        { "view", "SELECT obj_description('public.workspace_build_with_user'::regclass, 'pg_class')" },
        { "view", "SELECT obj_description('public.workspaces_expanded'::regclass, 'pg_class')" },
        { "domain", "SELECT obj_description('public.tagset'::regtype, 'pg_type')" },
    };

    [Theory]
    [MemberData(nameof(Commented))]
    public async Task ObjectCarriesAComment(string kind, string query)
    {
        var comment = (await ListAsync(query)).SingleOrDefault();

        Assert.False(string.IsNullOrWhiteSpace(comment), $"the {kind} of `{query}` has no comment");
    }

    private async Task<List<string>> ListAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) values.Add(reader.IsDBNull(0) ? "" : reader.GetString(0));
        return values;
    }
}

namespace Coderd.Database.Tests.Schema;

/// <summary>A column as the catalog renders it: <c>format_type</c>, NOT NULL, <c>pg_get_expr</c> of the default in UTC.</summary>
internal sealed record ExpectedColumn(string Name, string Type, bool NotNull, string? Default);

/// <summary>A table and its columns, in table order.</summary>
internal sealed record ExpectedTable(string Name, IReadOnlyList<ExpectedColumn> Columns);

/// <summary>A constraint as <c>pg_get_constraintdef</c> renders it in a UTC session with <c>search_path = public</c>.</summary>
internal sealed record ExpectedConstraint(string Table, string Name, string Definition);

/// <summary>An index as <c>pg_get_indexdef</c> renders it.</summary>
internal sealed record ExpectedIndex(string Table, string Name, string Definition);

/// <summary>
/// The target schema of ../shared/spec/schema.md, transcribed by hand into the text PostgreSQL 15
/// renders for it. This is what the fidelity tests hold the migrated database to: when the two
/// disagree, the migration is wrong, not this file (unless the spec changed).
/// </summary>
/// <remarks>
/// Rendering rules applied while transcribing: <c>timestamptz</c> reads <c>timestamp with time zone</c>,
/// <c>varchar(n)</c> reads <c>character varying(n)</c>, <c>int</c> reads <c>integer</c>; a literal
/// default carries its cast (<c>''::text</c>, <c>'{}'::jsonb</c>) except booleans and integers;
/// expressions are parenthesised; <c>IN (...)</c> reads <c>= ANY (ARRAY[...])</c>; ON DELETE
/// NO ACTION is not printed.
/// </remarks>
internal static class ExpectedSchema
{
    private const string Tz = "timestamp with time zone";
    private const string Now = "now()";
    private const string EmptyText = "''::text";
    private const string ZeroTime = "'0001-01-01 00:00:00+00'::timestamp with time zone";

    /// <summary>Section 1 of the spec, row by row: number, name, table, rendered definition.</summary>
    public static readonly IReadOnlyList<(int Number, ExpectedConstraint Check)> Checks =
    [
        (1, new("api_keys", "api_keys_allow_list_not_empty",
            "CHECK ((array_length(allow_list, 1) > 0))")),
        (2, new("chat_model_configs", "chat_model_configs_compression_threshold_check",
            "CHECK (((compression_threshold >= 0) AND (compression_threshold <= 100)))")),
        (3, new("chat_model_configs", "chat_model_configs_context_limit_check",
            "CHECK ((context_limit > 0))")),
        (4, new("chat_providers", "chat_providers_provider_check",
            "CHECK ((provider = ANY (ARRAY['anthropic'::text, 'azure'::text, 'bedrock'::text, 'google'::text, 'openai'::text, 'openai-compat'::text, 'openrouter'::text, 'vercel'::text])))")),
        (5, new("chat_usage_limit_config", "chat_usage_limit_config_default_limit_micros_check",
            "CHECK ((default_limit_micros >= 0))")),
        (6, new("chat_usage_limit_config", "chat_usage_limit_config_period_check",
            "CHECK ((period = ANY (ARRAY['day'::text, 'week'::text, 'month'::text])))")),
        (7, new("chat_usage_limit_config", "chat_usage_limit_config_singleton_check",
            "CHECK (singleton)")),
        (8, new("custom_roles", "organization_id_not_zero",
            "CHECK ((organization_id <> '00000000-0000-0000-0000-000000000000'::uuid))")),
        (9, new("groups", "groups_chat_spend_limit_micros_check",
            "CHECK (((chat_spend_limit_micros IS NULL) OR (chat_spend_limit_micros > 0)))")),
        (10, new("users", "one_time_passcode_set",
            "CHECK ((((hashed_one_time_passcode IS NULL) AND (one_time_passcode_expires_at IS NULL)) OR ((hashed_one_time_passcode IS NOT NULL) AND (one_time_passcode_expires_at IS NOT NULL))))")),
        (11, new("users", "users_chat_spend_limit_micros_check",
            "CHECK (((chat_spend_limit_micros IS NULL) OR (chat_spend_limit_micros > 0)))")),
        (12, new("users", "users_email_not_empty",
            "CHECK (((is_service_account = true) = (email = ''::text)))")),
        (13, new("users", "users_service_account_login_type",
            "CHECK (((is_service_account = false) OR (login_type = 'none'::login_type)))")),
        (14, new("users", "users_username_min_length",
            "CHECK ((length(username) >= 1))")),
        (15, new("mcp_server_configs", "mcp_server_configs_auth_type_check",
            "CHECK ((auth_type = ANY (ARRAY['none'::text, 'oauth2'::text, 'api_key'::text, 'custom_headers'::text])))")),
        (16, new("mcp_server_configs", "mcp_server_configs_availability_check",
            "CHECK ((availability = ANY (ARRAY['force_on'::text, 'default_on'::text, 'default_off'::text])))")),
        (17, new("mcp_server_configs", "mcp_server_configs_transport_check",
            "CHECK ((transport = ANY (ARRAY['streamable_http'::text, 'sse'::text])))")),
        (18, new("provisioner_jobs", "max_provisioner_logs_length",
            "CHECK ((logs_length <= 1048576))")),
        (19, new("workspace_agents", "max_logs_length",
            "CHECK ((logs_length <= 1048576))")),
        (20, new("workspace_agents", "subsystems_not_none",
            "CHECK ((NOT ('none'::workspace_agent_subsystem = ANY (subsystems))))")),
        (21, new("workspace_builds", "workspace_builds_deadline_below_max_deadline",
            "CHECK ((((deadline <> '0001-01-01 00:00:00+00'::timestamp with time zone) AND (deadline <= max_deadline)) OR (max_deadline = '0001-01-01 00:00:00+00'::timestamp with time zone)))")),
        (22, new("workspaces", "group_acl_is_object",
            "CHECK ((jsonb_typeof(group_acl) = 'object'::text))")),
        (23, new("workspaces", "user_acl_is_object",
            "CHECK ((jsonb_typeof(user_acl) = 'object'::text))")),
        (24, new("telemetry_locks", "telemetry_lock_event_type_constraint",
            "CHECK ((event_type = ANY (ARRAY['aibridge_interceptions_summary'::text, 'boundary_usage_summary'::text])))")),
        (25, new("template_version_parameters", "validation_monotonic_order",
            "CHECK ((validation_monotonic = ANY (ARRAY['increasing'::text, 'decreasing'::text, ''::text])))")),
        (26, new("usage_events", "usage_event_type_check",
            "CHECK ((event_type = ANY (ARRAY['dc_managed_agents_v1'::text, 'hb_ai_seats_v1'::text])))")),
    ];

    /// <summary>Section 2: every enum type and its labels, in order.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Enums = new Dictionary<string, string[]>
    {
        ["login_type"] = ["password", "github", "oidc", "token", "none", "oauth2_provider_app"],
        ["user_status"] = ["active", "suspended", "dormant"],
        ["group_source"] = ["user", "oidc"],
        ["shareable_workspace_owners"] = ["none", "everyone", "service_accounts"],
        ["provisioner_job_type"] = ["template_version_import", "workspace_build", "template_version_dry_run"],
        ["provisioner_type"] = ["echo", "terraform"],
        ["provisioner_storage_method"] = ["file"],
        ["workspace_transition"] = ["start", "stop", "delete"],
        ["build_reason"] =
        [
            "initiator", "autostart", "autostop", "dormancy", "failedstop", "autodelete", "dashboard", "cli",
            "ssh_connection", "vscode_connection", "jetbrains_connection", "task_auto_pause", "task_manual_pause", "task_resume",
        ],
        ["workspace_agent_subsystem"] = ["envbuilder", "envbox", "none", "exectrace"],
        ["workspace_agent_lifecycle_state"] =
        [
            "created", "starting", "start_timeout", "start_error", "ready", "shutting_down", "shutdown_timeout", "shutdown_error", "off",
        ],
        ["chat_status"] = ["waiting", "pending", "running", "paused", "completed", "error"],
        ["chat_mode"] = ["computer_use"],
        ["api_key_scope"] = ["all", "application_connect", "chat:create", "chat:read", "chat:update", "chat:delete", "chat:*"],
    };

    /// <summary>Section 3: every table, its columns in order, their types, nullability and defaults.</summary>
    public static readonly IReadOnlyList<ExpectedTable> Tables =
    [
        // Identity and organisations
        Table("organizations",
            NN("id", "uuid"),
            NN("name", "text"),
            NN("description", "text"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("is_default", "boolean", "false"),
            NN("display_name", "text"),
            NN("icon", "text", EmptyText),
            NN("deleted", "boolean", "false"),
            NN("shareable_workspace_owners", "shareable_workspace_owners", "'everyone'::shareable_workspace_owners")),
        Table("users",
            NN("id", "uuid"),
            NN("email", "text"),
            NN("username", "text", EmptyText),
            NN("hashed_password", "bytea"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("status", "user_status", "'dormant'::user_status"),
            NN("rbac_roles", "text[]", "'{}'::text[]"),
            NN("login_type", "login_type", "'password'::login_type"),
            NN("avatar_url", "text", EmptyText),
            NN("deleted", "boolean", "false"),
            NN("last_seen_at", "timestamp without time zone", "'0001-01-01 00:00:00'::timestamp without time zone"),
            NN("quiet_hours_schedule", "text", EmptyText),
            NN("name", "text", EmptyText),
            Null("github_com_user_id", "bigint"),
            Null("hashed_one_time_passcode", "bytea"),
            Null("one_time_passcode_expires_at", Tz),
            NN("is_system", "boolean", "false"),
            NN("is_service_account", "boolean", "false"),
            Null("chat_spend_limit_micros", "bigint")),
        Table("groups",
            NN("id", "uuid"),
            NN("name", "text"),
            NN("organization_id", "uuid"),
            NN("avatar_url", "text", EmptyText),
            NN("quota_allowance", "integer", "0"),
            NN("display_name", "text", EmptyText),
            NN("source", "group_source", "'user'::group_source"),
            Null("chat_spend_limit_micros", "bigint")),
        Table("custom_roles",
            NN("name", "text"),
            NN("display_name", "text"),
            NN("site_permissions", "jsonb", "'[]'::jsonb"),
            NN("org_permissions", "jsonb", "'{}'::jsonb"),
            NN("user_permissions", "jsonb", "'[]'::jsonb"),
            NN("created_at", Tz, "CURRENT_TIMESTAMP"),
            NN("updated_at", Tz, "CURRENT_TIMESTAMP"),
            Null("organization_id", "uuid"),
            NN("id", "uuid", "gen_random_uuid()"),
            NN("is_system", "boolean", "false"),
            NN("member_permissions", "jsonb", "'[]'::jsonb")),
        Table("api_keys",
            NN("id", "text"),
            NN("hashed_secret", "bytea"),
            NN("user_id", "uuid"),
            NN("last_used", Tz),
            NN("expires_at", Tz),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("login_type", "login_type"),
            NN("lifetime_seconds", "bigint", "86400"),
            NN("ip_address", "inet", "'0.0.0.0'::inet"),
            NN("token_name", "text", EmptyText),
            NN("scopes", "api_key_scope[]"),
            NN("allow_list", "text[]")),
        Table("dbcrypt_keys",
            NN("number", "integer"),
            Null("active_key_digest", "text"),
            Null("revoked_key_digest", "text"),
            Null("created_at", Tz, "CURRENT_TIMESTAMP"),
            Null("revoked_at", Tz),
            NN("test", "text")),

        // Provisioning and workspaces
        Table("provisioner_jobs",
            NN("id", "uuid"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("organization_id", "uuid"),
            NN("initiator_id", "uuid"),
            NN("provisioner", "provisioner_type"),
            NN("storage_method", "provisioner_storage_method"),
            NN("type", "provisioner_job_type"),
            NN("input", "jsonb"),
            NN("file_id", "uuid"),
            NN("logs_length", "integer", "0")),
        Table("templates",
            NN("id", "uuid"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("organization_id", "uuid"),
            NN("deleted", "boolean", "false"),
            NN("name", "character varying(64)"),
            NN("provisioner", "provisioner_type"),
            NN("active_version_id", "uuid"),
            NN("created_by", "uuid")),
        Table("template_versions",
            NN("id", "uuid"),
            Null("template_id", "uuid"),
            NN("organization_id", "uuid"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("name", "character varying(64)"),
            NN("readme", "character varying(1048576)"),
            NN("job_id", "uuid"),
            NN("created_by", "uuid")),
        Table("template_version_parameters",
            NN("template_version_id", "uuid"),
            NN("name", "text"),
            NN("description", "text"),
            NN("type", "text"),
            NN("mutable", "boolean"),
            NN("default_value", "text"),
            NN("icon", "text"),
            NN("validation_regex", "text"),
            NN("validation_monotonic", "text", EmptyText)),
        Table("workspaces",
            NN("id", "uuid"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("owner_id", "uuid"),
            NN("organization_id", "uuid"),
            NN("template_id", "uuid"),
            NN("deleted", "boolean", "false"),
            NN("name", "character varying(64)"),
            NN("group_acl", "jsonb", "'{}'::jsonb"),
            NN("user_acl", "jsonb", "'{}'::jsonb")),
        Table("workspace_builds",
            NN("id", "uuid"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("workspace_id", "uuid"),
            NN("template_version_id", "uuid"),
            NN("build_number", "integer"),
            NN("transition", "workspace_transition"),
            NN("initiator_id", "uuid"),
            NN("job_id", "uuid"),
            NN("deadline", Tz, ZeroTime),
            NN("max_deadline", Tz, ZeroTime),
            NN("reason", "build_reason", "'initiator'::build_reason")),
        Table("workspace_resources",
            NN("id", "uuid"),
            NN("created_at", Tz),
            NN("job_id", "uuid"),
            NN("transition", "workspace_transition"),
            NN("type", "character varying(192)"),
            NN("name", "character varying(64)")),
        Table("workspace_agents",
            NN("id", "uuid"),
            NN("created_at", Tz),
            NN("updated_at", Tz),
            NN("name", "character varying(64)"),
            NN("resource_id", "uuid"),
            NN("auth_token", "uuid"),
            NN("architecture", "character varying(64)"),
            NN("operating_system", "character varying(64)"),
            NN("lifecycle_state", "workspace_agent_lifecycle_state", "'created'::workspace_agent_lifecycle_state"),
            NN("logs_length", "integer", "0"),
            Null("subsystems", "workspace_agent_subsystem[]", "'{}'::workspace_agent_subsystem[]"),
            Null("parent_id", "uuid")),

        // Telemetry and usage
        Table("telemetry_locks",
            NN("event_type", "text"),
            NN("period_ending_at", Tz)),
        Table("usage_events",
            NN("id", "text"),
            NN("event_type", "text"),
            NN("event_data", "jsonb"),
            NN("created_at", Tz),
            Null("publish_started_at", Tz),
            Null("published_at", Tz),
            Null("failure_message", "text")),

        // Chats
        Table("chat_providers",
            NN("id", "uuid", "gen_random_uuid()"),
            NN("provider", "text"),
            NN("display_name", "text", EmptyText),
            NN("api_key", "text", EmptyText),
            Null("api_key_key_id", "text"),
            Null("created_by", "uuid"),
            NN("enabled", "boolean", "true"),
            NN("created_at", Tz, Now),
            NN("updated_at", Tz, Now),
            NN("base_url", "text", EmptyText)),
        Table("chat_model_configs",
            NN("id", "uuid", "gen_random_uuid()"),
            NN("provider", "text"),
            NN("model", "text"),
            NN("display_name", "text", EmptyText),
            Null("created_by", "uuid"),
            Null("updated_by", "uuid"),
            NN("enabled", "boolean", "true"),
            NN("is_default", "boolean", "false"),
            NN("deleted", "boolean", "false"),
            Null("deleted_at", Tz),
            NN("created_at", Tz, Now),
            NN("updated_at", Tz, Now),
            NN("context_limit", "bigint"),
            NN("compression_threshold", "integer"),
            NN("options", "jsonb", "'{}'::jsonb")),
        Table("chats",
            NN("id", "uuid", "gen_random_uuid()"),
            NN("owner_id", "uuid"),
            Null("workspace_id", "uuid"),
            NN("title", "text", "'New Chat'::text"),
            NN("status", "chat_status", "'waiting'::chat_status"),
            Null("worker_id", "uuid"),
            Null("started_at", Tz),
            Null("heartbeat_at", Tz),
            NN("created_at", Tz, Now),
            NN("updated_at", Tz, Now),
            Null("parent_chat_id", "uuid"),
            Null("root_chat_id", "uuid"),
            NN("last_model_config_id", "uuid"),
            NN("archived", "boolean", "false"),
            Null("last_error", "text"),
            Null("mode", "chat_mode"),
            NN("mcp_server_ids", "uuid[]", "'{}'::uuid[]")),
        Table("chat_usage_limit_config",
            // bigserial: a bigint whose default draws from the sequence PostgreSQL names <table>_<column>_seq.
            NN("id", "bigint", "nextval('chat_usage_limit_config_id_seq'::regclass)"),
            NN("singleton", "boolean", "true"),
            NN("enabled", "boolean", "false"),
            NN("default_limit_micros", "bigint", "0"),
            NN("period", "text", "'month'::text"),
            NN("created_at", Tz, Now),
            NN("updated_at", Tz, Now)),

        // MCP servers
        Table("mcp_server_configs",
            NN("id", "uuid", "gen_random_uuid()"),
            NN("display_name", "text"),
            NN("slug", "text"),
            NN("description", "text", EmptyText),
            NN("icon_url", "text", EmptyText),
            NN("transport", "text", "'streamable_http'::text"),
            NN("url", "text"),
            NN("auth_type", "text", "'none'::text"),
            NN("oauth2_client_id", "text", EmptyText),
            NN("oauth2_client_secret", "text", EmptyText),
            Null("oauth2_client_secret_key_id", "text"),
            NN("oauth2_auth_url", "text", EmptyText),
            NN("oauth2_token_url", "text", EmptyText),
            NN("oauth2_scopes", "text", EmptyText),
            NN("api_key_header", "text", "'Authorization'::text"),
            NN("api_key_value", "text", EmptyText),
            Null("api_key_value_key_id", "text"),
            NN("custom_headers", "text", "'{}'::text"),
            Null("custom_headers_key_id", "text"),
            NN("tool_allow_list", "text[]", "'{}'::text[]"),
            NN("tool_deny_list", "text[]", "'{}'::text[]"),
            NN("availability", "text", "'default_off'::text"),
            NN("enabled", "boolean", "false"),
            Null("created_by", "uuid"),
            Null("updated_by", "uuid"),
            NN("created_at", Tz, Now),
            NN("updated_at", Tz, Now)),
        Table("mcp_server_user_tokens",
            NN("id", "uuid", "gen_random_uuid()"),
            NN("mcp_server_config_id", "uuid"),
            NN("user_id", "uuid"),
            NN("access_token", "text"),
            Null("access_token_key_id", "text"),
            NN("refresh_token", "text", EmptyText),
            Null("refresh_token_key_id", "text"),
            NN("token_type", "text", "'Bearer'::text"),
            Null("expiry", Tz),
            NN("created_at", Tz, Now),
            NN("updated_at", Tz, Now)),
    ];

    /// <summary>Every primary key, UNIQUE constraint and foreign key.</summary>
    public static readonly IReadOnlyList<ExpectedConstraint> Keys =
    [
        Pk("organizations", "id"),

        Pk("users", "id"),

        Pk("groups", "id"),
        Fk("groups", "organization_id", "organizations(id)", "CASCADE"),
        Unique("groups", "groups_name_organization_id_key", "name, organization_id"),

        Unique("custom_roles", "custom_roles_unique_key", "name, organization_id"),

        Pk("api_keys", "id"),
        new("api_keys", "api_keys_user_id_uuid_fkey", "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"),

        Pk("dbcrypt_keys", "number"),
        Unique("dbcrypt_keys", "dbcrypt_keys_active_key_digest_key", "active_key_digest"),
        Unique("dbcrypt_keys", "dbcrypt_keys_revoked_key_digest_key", "revoked_key_digest"),

        Pk("provisioner_jobs", "id"),
        Fk("provisioner_jobs", "organization_id", "organizations(id)", "CASCADE"),

        Pk("templates", "id"),
        Fk("templates", "organization_id", "organizations(id)", "CASCADE"),
        Fk("templates", "created_by", "users(id)", "RESTRICT"),

        Pk("template_versions", "id"),
        Fk("template_versions", "template_id", "templates(id)", "CASCADE"),
        Fk("template_versions", "organization_id", "organizations(id)", "CASCADE"),
        Fk("template_versions", "created_by", "users(id)", "RESTRICT"),

        Fk("template_version_parameters", "template_version_id", "template_versions(id)", "CASCADE"),
        Unique("template_version_parameters", "template_version_parameters_template_version_id_name_key", "template_version_id, name"),

        Pk("workspaces", "id"),
        Fk("workspaces", "owner_id", "users(id)", "RESTRICT"),
        Fk("workspaces", "organization_id", "organizations(id)", "RESTRICT"),
        Fk("workspaces", "template_id", "templates(id)", "RESTRICT"),

        Pk("workspace_builds", "id"),
        Fk("workspace_builds", "workspace_id", "workspaces(id)", "CASCADE"),
        Fk("workspace_builds", "template_version_id", "template_versions(id)", "CASCADE"),
        Fk("workspace_builds", "job_id", "provisioner_jobs(id)", "CASCADE"),
        Unique("workspace_builds", "workspace_builds_job_id_key", "job_id"),
        Unique("workspace_builds", "workspace_builds_workspace_id_build_number_key", "workspace_id, build_number"),

        Pk("workspace_resources", "id"),
        Fk("workspace_resources", "job_id", "provisioner_jobs(id)", "CASCADE"),

        Pk("workspace_agents", "id"),
        Fk("workspace_agents", "resource_id", "workspace_resources(id)", "CASCADE"),
        Fk("workspace_agents", "parent_id", "workspace_agents(id)", "CASCADE"),

        Pk("telemetry_locks", "event_type, period_ending_at"),

        Pk("usage_events", "id"),

        Pk("chat_providers", "id"),
        Unique("chat_providers", "chat_providers_provider_key", "provider"),
        Fk("chat_providers", "api_key_key_id", "dbcrypt_keys(active_key_digest)"),
        Fk("chat_providers", "created_by", "users(id)"),

        Pk("chat_model_configs", "id"),
        Fk("chat_model_configs", "provider", "chat_providers(provider)", "CASCADE"),
        Fk("chat_model_configs", "created_by", "users(id)"),
        Fk("chat_model_configs", "updated_by", "users(id)"),

        Pk("chats", "id"),
        Fk("chats", "owner_id", "users(id)", "CASCADE"),
        Fk("chats", "workspace_id", "workspaces(id)", "SET NULL"),
        Fk("chats", "parent_chat_id", "chats(id)", "SET NULL"),
        Fk("chats", "root_chat_id", "chats(id)", "SET NULL"),
        Fk("chats", "last_model_config_id", "chat_model_configs(id)"),

        Pk("chat_usage_limit_config", "id"),
        Unique("chat_usage_limit_config", "chat_usage_limit_config_singleton_key", "singleton"),

        Pk("mcp_server_configs", "id"),
        Unique("mcp_server_configs", "mcp_server_configs_slug_key", "slug"),
        Fk("mcp_server_configs", "oauth2_client_secret_key_id", "dbcrypt_keys(active_key_digest)"),
        Fk("mcp_server_configs", "api_key_value_key_id", "dbcrypt_keys(active_key_digest)"),
        Fk("mcp_server_configs", "custom_headers_key_id", "dbcrypt_keys(active_key_digest)"),
        Fk("mcp_server_configs", "created_by", "users(id)", "SET NULL"),
        Fk("mcp_server_configs", "updated_by", "users(id)", "SET NULL"),

        Pk("mcp_server_user_tokens", "id"),
        Fk("mcp_server_user_tokens", "mcp_server_config_id", "mcp_server_configs(id)", "CASCADE"),
        Fk("mcp_server_user_tokens", "user_id", "users(id)", "CASCADE"),
        Fk("mcp_server_user_tokens", "access_token_key_id", "dbcrypt_keys(active_key_digest)"),
        Fk("mcp_server_user_tokens", "refresh_token_key_id", "dbcrypt_keys(active_key_digest)"),
        Unique("mcp_server_user_tokens", "mcp_server_user_tokens_mcp_server_config_id_user_id_key", "mcp_server_config_id, user_id"),
    ];

    /// <summary>Every index that is not the one behind a primary key or UNIQUE constraint (those follow from <see cref="Keys"/>).</summary>
    public static readonly IReadOnlyList<ExpectedIndex> Indexes =
    [
        Index("organizations", "idx_organization_name_lower", "(lower(name)) WHERE (deleted = false)", unique: true),
        Index("organizations", "organizations_single_default_org", "(is_default) WHERE (is_default = true)", unique: true),

        Index("users", "idx_users_email", "(email) WHERE ((deleted = false) AND (email <> ''::text))", unique: true),
        Index("users", "users_email_lower_idx", "(lower(email)) WHERE ((deleted = false) AND (email <> ''::text))", unique: true),
        Index("users", "idx_users_username", "(username) WHERE (deleted = false)", unique: true),
        Index("users", "users_username_lower_idx", "(lower(username)) WHERE (deleted = false)", unique: true),

        Index("custom_roles", "idx_custom_roles_name_lower_organization_id",
            "(lower(name), COALESCE(organization_id, '00000000-0000-0000-0000-000000000000'::uuid))", unique: true),
        Index("custom_roles", "idx_custom_roles_id", "(id)"),

        Index("api_keys", "idx_api_key_name", "(user_id, token_name) WHERE (login_type = 'token'::login_type)", unique: true),
        Index("api_keys", "idx_api_keys_user", "(user_id)"),
        Index("api_keys", "api_keys_last_used_idx", "(last_used)"),

        Index("workspaces", "workspaces_owner_id_lower_idx", "(owner_id, lower((name)::text)) WHERE (deleted = false)", unique: true),

        Index("telemetry_locks", "idx_telemetry_locks_period_ending_at", "(period_ending_at)"),

        Index("usage_events", "idx_usage_events_select_for_publishing", "(published_at, publish_started_at, created_at)"),
        Index("usage_events", "idx_usage_events_ai_seats", "(event_type, created_at) WHERE (event_type = 'hb_ai_seats_v1'::text)"),

        Index("chat_providers", "idx_chat_providers_enabled", "(enabled)"),

        Index("chat_model_configs", "idx_chat_model_configs_single_default", "((1)) WHERE ((is_default = true) AND (deleted = false))", unique: true),

        Index("chats", "idx_chats_owner", "(owner_id)"),
        Index("chats", "idx_chats_workspace", "(workspace_id)"),
        Index("chats", "idx_chats_pending", "(status) WHERE (status = 'pending'::chat_status)"),
        Index("chats", "idx_chats_parent_chat_id", "(parent_chat_id)"),
        Index("chats", "idx_chats_root_chat_id", "(root_chat_id)"),
        Index("chats", "idx_chats_last_model_config_id", "(last_model_config_id)"),

        Index("mcp_server_configs", "idx_mcp_server_configs_enabled", "(enabled) WHERE (enabled = true)"),
        Index("mcp_server_configs", "idx_mcp_server_configs_forced", "(enabled, availability) WHERE ((enabled = true) AND (availability = 'force_on'::text))"),

        Index("mcp_server_user_tokens", "idx_mcp_server_user_tokens_user_id", "(user_id)"),
    ];

    /// <summary>The only sequence: the one behind <c>chat_usage_limit_config.id</c> (bigserial).</summary>
    public static readonly IReadOnlyList<string> Sequences = ["chat_usage_limit_config_id_seq owned by chat_usage_limit_config.id"];

    /// <summary>All constraints: <see cref="Keys"/> and the CHECKs.</summary>
    public static IEnumerable<ExpectedConstraint> Constraints => Keys.Concat(Checks.Select(c => c.Check));

    /// <summary>All indexes: <see cref="Indexes"/> and those PostgreSQL creates for primary keys and UNIQUE constraints.</summary>
    public static IEnumerable<ExpectedIndex> AllIndexes => Indexes.Concat(Keys
        .Where(k => k.Definition.StartsWith("PRIMARY KEY ", StringComparison.Ordinal) || k.Definition.StartsWith("UNIQUE ", StringComparison.Ordinal))
        .Select(k => new ExpectedIndex(k.Table, k.Name,
            $"CREATE UNIQUE INDEX {k.Name} ON public.{k.Table} USING btree {k.Definition[k.Definition.IndexOf('(', StringComparison.Ordinal)..]}")));

    private static ExpectedTable Table(string name, params ExpectedColumn[] columns) => new(name, columns);

    private static ExpectedColumn NN(string name, string type, string? @default = null) => new(name, type, NotNull: true, @default);

    private static ExpectedColumn Null(string name, string type, string? @default = null) => new(name, type, NotNull: false, @default);

    private static ExpectedConstraint Pk(string table, string columns) => new(table, $"{table}_pkey", $"PRIMARY KEY ({columns})");

    private static ExpectedConstraint Unique(string table, string name, string columns) => new(table, name, $"UNIQUE ({columns})");

    /// <summary>A foreign key with PostgreSQL's own name, <c>&lt;table&gt;_&lt;column&gt;_fkey</c>; no rule = NO ACTION.</summary>
    private static ExpectedConstraint Fk(string table, string column, string references, string? onDelete = null) =>
        new(table, $"{table}_{column}_fkey",
            $"FOREIGN KEY ({column}) REFERENCES {references}{(onDelete is null ? "" : $" ON DELETE {onDelete}")}");

    private static ExpectedIndex Index(string table, string name, string columnsAndPredicate, bool unique = false) =>
        new(table, name, $"CREATE {(unique ? "UNIQUE " : "")}INDEX {name} ON public.{table} USING btree {columnsAndPredicate}");
}

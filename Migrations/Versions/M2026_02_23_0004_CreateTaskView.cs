using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// <c>tasks_with_status</c>: every live task with one status worked out from its workspace build,
/// agent and app, the raw values behind it, and its owner's names.
/// </summary>
[Migration(2026_02_23_0004, "Create the tasks_with_status view")]
internal sealed class M2026_02_23_0004_CreateTaskView : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        // The build looked at is the one the task's latest app row names, not the workspace's
        // latest build. Each part gets a status of its own; the first that is not active wins.
        Execute.Sql("""
            CREATE VIEW public.tasks_with_status AS
                SELECT
                    tasks.*,
                    COALESCE(workspaces.group_acl, '{}'::jsonb) AS workspace_group_acl,
                    COALESCE(workspaces.user_acl, '{}'::jsonb) AS workspace_user_acl,
                    CASE
                        WHEN tasks.workspace_id IS NULL THEN 'pending'::public.task_status
                        WHEN computed.build <> 'active'::public.task_status THEN computed.build
                        WHEN computed.agent <> 'active'::public.task_status THEN computed.agent
                        ELSE computed.app
                    END AS status,
                    jsonb_build_object(
                        'build', jsonb_build_object(
                            'transition', task_build.transition,
                            'job_status', task_build.job_status,
                            'computed', computed.build),
                        'agent', jsonb_build_object(
                            'lifecycle_state', workspace_agents.lifecycle_state,
                            'computed', computed.agent),
                        'app', jsonb_build_object(
                            'health', workspace_apps.health,
                            'computed', computed.app)) AS status_debug,
                    task_app.workspace_build_number,
                    task_app.workspace_agent_id,
                    task_app.workspace_app_id,
                    workspace_agents.lifecycle_state AS workspace_agent_lifecycle_state,
                    workspace_apps.health AS workspace_app_health,
                    visible_users.username AS owner_username,
                    visible_users.name AS owner_name,
                    visible_users.avatar_url AS owner_avatar_url
                FROM public.tasks
                JOIN public.visible_users ON visible_users.id = tasks.owner_id
                LEFT JOIN public.workspaces ON workspaces.id = tasks.workspace_id
                LEFT JOIN LATERAL (
                    SELECT
                        task_workspace_apps.workspace_build_number,
                        task_workspace_apps.workspace_agent_id,
                        task_workspace_apps.workspace_app_id
                    FROM public.task_workspace_apps
                    WHERE task_workspace_apps.task_id = tasks.id
                    ORDER BY task_workspace_apps.workspace_build_number DESC
                    LIMIT 1
                ) AS task_app ON true
                LEFT JOIN LATERAL (
                    SELECT workspace_builds.transition, provisioner_jobs.job_status
                    FROM public.workspace_builds
                    JOIN public.provisioner_jobs ON provisioner_jobs.id = workspace_builds.job_id
                    WHERE workspace_builds.workspace_id = tasks.workspace_id
                      AND workspace_builds.build_number = task_app.workspace_build_number
                ) AS task_build ON true
                LEFT JOIN public.workspace_agents ON workspace_agents.id = task_app.workspace_agent_id
                LEFT JOIN public.workspace_apps ON workspace_apps.id = task_app.workspace_app_id
                CROSS JOIN LATERAL (
                    SELECT
                        CASE
                            WHEN task_build.job_status IS NULL THEN 'pending'::public.task_status
                            WHEN task_build.job_status IN ('failed', 'canceling', 'canceled') THEN 'error'::public.task_status
                            WHEN task_build.transition IN ('stop', 'delete')
                                 AND task_build.job_status = 'succeeded' THEN 'paused'::public.task_status
                            WHEN task_build.transition = 'start'
                                 AND task_build.job_status = 'pending' THEN 'pending'::public.task_status
                            WHEN task_build.transition = 'start'
                                 AND task_build.job_status IN ('running', 'succeeded') THEN 'active'::public.task_status
                            ELSE 'unknown'::public.task_status
                        END AS build,
                        CASE
                            WHEN workspace_agents.lifecycle_state IS NULL
                                 OR workspace_agents.lifecycle_state IN ('created', 'starting') THEN 'initializing'::public.task_status
                            WHEN workspace_agents.lifecycle_state IN ('ready', 'start_timeout', 'start_error') THEN 'active'::public.task_status
                            ELSE 'unknown'::public.task_status
                        END AS agent,
                        CASE workspace_apps.health
                            WHEN 'initializing' THEN 'initializing'::public.task_status
                            WHEN 'unhealthy' THEN 'error'::public.task_status
                            WHEN 'healthy' THEN 'active'::public.task_status
                            WHEN 'disabled' THEN 'active'::public.task_status
                            ELSE 'unknown'::public.task_status
                        END AS app
                ) AS computed
                WHERE tasks.deleted_at IS NULL
            """);
    }

    /// <inheritdoc/>
    public override void Down() => Execute.Sql("DROP VIEW public.tasks_with_status");
}

using Coderd.Database.Migrations.Versions;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows of <c>template_version_with_user</c> and <c>template_with_names</c>
/// (<see cref="M2026_02_23_0002_CreateTemplateViews"/>, behavior.md 3.5 and 3.6).
/// </summary>
public sealed class TemplateViewTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    [Fact]
    public async Task EveryVersionComesWithItsCreatorsNames()
    {
        var alice = await Builder.InsertIdAsync("users", ("username", "alice"), ("name", "Alice"), ("avatar_url", "https://a/alice"));
        var gone = await Builder.InsertIdAsync("users", ("username", "gone"), ("name", "Gone"), ("avatar_url", "https://a/gone"), ("deleted", true));
        var (org, _, template, first) = await Builder.TemplateAsync(("created_by", alice));
        var second = await Builder.VersionAsync(org, null, gone);

        Assert.Equal(
            new[] { $"{first} {template} {await CreatorAsync(alice)}", $"{second}  {await CreatorAsync(gone)}" }.Order(StringComparer.Ordinal),
            await Builder.ColumnAsync<string>(
                "SELECT id || ' ' || COALESCE(template_id::text, '') || ' ' || created_by_username || ' ' || created_by_name || ' ' || created_by_avatar_url FROM template_version_with_user ORDER BY 1"));
    }

    [Fact]
    public async Task VersionColumnsAreTheTablesOwn()
    {
        await Builder.TemplateAsync();

        Assert.True(await Builder.ScalarAsync<bool>("""
            SELECT (SELECT array_agg(v.* ORDER BY v.id) FROM (
                        SELECT id, template_id, organization_id, created_at, updated_at, name, readme, job_id, created_by, external_auth_providers,
                               message, archived, source_example_id, has_ai_task, has_external_agent
                        FROM template_version_with_user) AS v)::text
                 = (SELECT array_agg(t.* ORDER BY t.id) FROM template_versions AS t)::text
            """));
    }

    [Fact]
    public async Task EveryTemplateDeletedOrNotComesWithCreatorAndOrganizationNames()
    {
        var org = await Builder.InsertIdAsync("organizations", ("name", "acme"), ("display_name", "Acme"), ("icon", "acme.svg"));
        var alice = await Builder.InsertIdAsync("users", ("username", "alice"), ("name", "Alice"), ("avatar_url", "https://a/alice"));
        var live = (await Builder.TemplateAsync(("organization_id", org), ("created_by", alice))).Template;
        var deleted = (await Builder.TemplateAsync(("organization_id", org), ("created_by", alice), ("deleted", true))).Template;
        var organization = await Builder.ScalarAsync<string>("SELECT name || ' ' || display_name || ' ' || icon FROM organizations");
        var creator = await CreatorAsync(alice);

        Assert.Equal(
            new[] { $"{live} false {creator} {organization}", $"{deleted} true {creator} {organization}" }.Order(StringComparer.Ordinal),
            await Builder.ColumnAsync<string>("""
                SELECT concat_ws(' ', id, deleted::text, created_by_username, created_by_name, created_by_avatar_url,
                                 organization_name, organization_display_name, organization_icon)
                FROM template_with_names ORDER BY 1
                """));
    }

    [Fact]
    public async Task TemplateColumnsAreTheTablesOwn()
    {
        await Builder.TemplateAsync();

        Assert.True(await Builder.ScalarAsync<bool>("""
            SELECT (SELECT array_agg(t.* ORDER BY t.id) FROM templates AS t)::text
                 = (SELECT array_agg(v.* ORDER BY v.id) FROM (
                        SELECT id, created_at, updated_at, organization_id, deleted, name, provisioner, active_version_id, description, default_ttl,
                               created_by, icon, user_acl, group_acl, display_name, allow_user_cancel_workspace_jobs, allow_user_autostart,
                               allow_user_autostop, failure_ttl, time_til_dormant, time_til_dormant_autodelete, autostop_requirement_days_of_week,
                               autostop_requirement_weeks, autostart_block_days_of_week, require_active_version, deprecated, activity_bump,
                               max_port_sharing_level, use_classic_parameter_flow, cors_behavior, disable_module_cache
                        FROM template_with_names) AS v)::text
            """));
    }

    /// <summary>"username name avatar_url" of a user, read back.</summary>
    private async Task<string?> CreatorAsync(Guid user) =>
        await Builder.ScalarAsync<string>("SELECT username || ' ' || name || ' ' || avatar_url FROM users WHERE id = @id", ("id", user));
}

using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows of <c>visible_users</c> and <c>group_members_expanded</c>
/// (<see cref="M2026_02_23_0001_CreateUserViews"/>, behavior.md 3.3 and 3.4).
/// </summary>
public sealed class UserViewTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private NpgsqlConnection connection = null!;
    private Rows rows = null!;

    public async ValueTask InitializeAsync()
    {
        await database.ResetAsync();
        connection = await database.OpenAsync();
        rows = new Rows(connection);
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();

    [Fact]
    public async Task VisibleUsersListsEveryUserWithItsPublicFields()
    {
        await rows.UserAsync();
        await rows.UserAsync(deleted: true);
        var system = await rows.UserAsync();
        await rows.ExecuteAsync("UPDATE users SET is_system = true WHERE id = @id", ("id", system));
        await rows.ExecuteAsync("""
            INSERT INTO users (id, email, username, hashed_password, created_at, updated_at, is_service_account, login_type)
            VALUES (gen_random_uuid(), '', 'robot', '\x01', now(), now(), true, 'none')
            """);

        Assert.Equal(
            await rows.ColumnAsync<string>("SELECT concat_ws(' ', id, username, name, avatar_url) FROM users ORDER BY id"),
            await rows.ColumnAsync<string>("SELECT concat_ws(' ', id, username, name, avatar_url) FROM visible_users ORDER BY id"));
        Assert.Equal(4L, await rows.ScalarAsync<long>("SELECT count(*) FROM visible_users"));
    }

    [Fact]
    public async Task OrganizationMembershipShowsAsMembershipOfTheEveryoneGroupOnce()
    {
        var org = await rows.OrganizationAsync();
        var everyone = await rows.GroupAsync(org, id: org);
        var alice = await rows.UserAsync();
        await rows.MemberAsync(org, alice);
        // Listed in the Everyone group explicitly as well: still one row.
        await rows.GroupMemberAsync(everyone, alice);

        Assert.Equal([$"{alice} {org} {org}"], await MembershipsAsync());
    }

    [Fact]
    public async Task ExplicitGroupMembershipShowsWithTheGroupsNameAndOrganization()
    {
        var org = await rows.OrganizationAsync();
        var group = await rows.GroupAsync(org);
        var bob = await rows.UserAsync();
        await rows.GroupMemberAsync(group, bob);

        Assert.Equal([$"{bob} {group} {org}"], await MembershipsAsync());
        Assert.Equal(
            await rows.ScalarAsync<string>("SELECT name FROM groups WHERE id = @group", ("group", group)),
            await rows.ScalarAsync<string>("SELECT group_name FROM group_members_expanded"));
    }

    [Fact]
    public async Task MembershipWithoutEveryoneGroupOrOfDeletedUserIsAbsent()
    {
        var org = await rows.OrganizationAsync();
        var group = await rows.GroupAsync(org);
        await rows.MemberAsync(org, await rows.UserAsync());
        var gone = await rows.UserAsync(deleted: true);
        await rows.MemberAsync(org, gone);
        await rows.GroupMemberAsync(group, gone);

        Assert.Empty(await MembershipsAsync());
    }

    [Fact]
    public async Task UserColumnsAreTheUsersOwn()
    {
        var org = await rows.OrganizationAsync();
        await rows.GroupAsync(org, id: org);
        var alice = await rows.UserAsync();
        await rows.ExecuteAsync("""
            UPDATE users SET rbac_roles = '{owner}', login_type = 'github', last_seen_at = '2024-01-01 10:00', quiet_hours_schedule = 'CRON_TZ=UTC 0 0 * * *',
                             github_com_user_id = 42, is_system = true, status = 'suspended'
            WHERE id = @alice
            """, ("alice", alice));
        await rows.MemberAsync(org, alice);

        Assert.True(await rows.ScalarAsync<bool>("""
            SELECT (g.user_id, g.user_email, g.user_username, g.user_hashed_password, g.user_created_at, g.user_updated_at, g.user_status,
                    g.user_rbac_roles, g.user_login_type, g.user_avatar_url, g.user_deleted, g.user_last_seen_at, g.user_quiet_hours_schedule,
                    g.user_name, g.user_github_com_user_id, g.user_is_system)
                   IS NOT DISTINCT FROM
                   (u.id, u.email, u.username, u.hashed_password, u.created_at, u.updated_at, u.status,
                    u.rbac_roles, u.login_type, u.avatar_url, u.deleted, u.last_seen_at, u.quiet_hours_schedule,
                    u.name, u.github_com_user_id, u.is_system)
            FROM group_members_expanded AS g JOIN users AS u ON u.id = g.user_id
            """));
    }

    /// <summary>Every row as "user group organization", sorted.</summary>
    private async Task<List<string?>> MembershipsAsync() => await rows.ColumnAsync<string>(
        "SELECT concat_ws(' ', user_id, group_id, organization_id) FROM group_members_expanded ORDER BY 1");
}

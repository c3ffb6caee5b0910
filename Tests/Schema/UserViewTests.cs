using Coderd.Database.Migrations.Versions;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The rows of <c>visible_users</c> and <c>group_members_expanded</c>
/// (<see cref="M2026_02_23_0001_CreateUserViews"/>, behavior.md 3.3 and 3.4).
/// </summary>
public sealed class UserViewTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    [Fact]
    public async Task VisibleUsersListsEveryUserWithItsPublicFields()
    {
        await Builder.InsertAsync("users", ("username", "alice"), ("name", "Alice"), ("avatar_url", "https://a/alice"));
        await Builder.InsertAsync("users", ("username", "gone"), ("name", "Gone"), ("avatar_url", "https://a/gone"), ("deleted", true));
        await Builder.InsertAsync("users", ("username", "system"), ("name", "System"), ("avatar_url", "https://a/system"), ("is_system", true));
        await Builder.InsertAsync("users", ("username", "robot"), ("email", ""), ("is_service_account", true), ("login_type", "none"));

        Assert.Equal(
            await Builder.ColumnAsync<string>("SELECT concat_ws(' ', id, username, name, avatar_url) FROM users ORDER BY id"),
            await Builder.ColumnAsync<string>("SELECT concat_ws(' ', id, username, name, avatar_url) FROM visible_users ORDER BY id"));
        Assert.Equal(4L, await Builder.ScalarAsync<long>("SELECT count(*) FROM visible_users"));
    }

    [Fact]
    public async Task OrganizationMembershipShowsAsMembershipOfTheEveryoneGroupOnce()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var everyone = await Builder.InsertIdAsync("groups", ("organization_id", org), ("id", org));
        var alice = await Builder.InsertIdAsync("users");
        await Builder.InsertAsync("organization_members", ("organization_id", org), ("user_id", alice));
        // Listed in the Everyone group explicitly as well: still one row.
        await Builder.InsertAsync("group_members", ("group_id", everyone), ("user_id", alice));

        Assert.Equal([$"{alice} {org} {org}"], await MembershipsAsync());
    }

    [Fact]
    public async Task ExplicitGroupMembershipShowsWithTheGroupsNameAndOrganization()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var group = await Builder.InsertIdAsync("groups", ("organization_id", org));
        var bob = await Builder.InsertIdAsync("users");
        await Builder.InsertAsync("group_members", ("group_id", group), ("user_id", bob));

        Assert.Equal([$"{bob} {group} {org}"], await MembershipsAsync());
        Assert.Equal(
            await Builder.ScalarAsync<string>("SELECT name FROM groups WHERE id = @group", ("group", group)),
            await Builder.ScalarAsync<string>("SELECT group_name FROM group_members_expanded"));
    }

    [Fact]
    public async Task MembershipWithoutEveryoneGroupOrOfDeletedUserIsAbsent()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var group = await Builder.InsertIdAsync("groups", ("organization_id", org));
        await Builder.InsertAsync("organization_members", ("organization_id", org), ("user_id", await Builder.InsertIdAsync("users")));
        var gone = await Builder.InsertIdAsync("users", ("deleted", true));
        await Builder.InsertAsync("organization_members", ("organization_id", org), ("user_id", gone));
        await Builder.InsertAsync("group_members", ("group_id", group), ("user_id", gone));

        Assert.Empty(await MembershipsAsync());
    }

    [Fact]
    public async Task UserColumnsAreTheUsersOwn()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await Builder.InsertAsync("groups", ("organization_id", org), ("id", org));
        var alice = await Builder.InsertIdAsync(
            "users", ("name", "Alice"), ("avatar_url", "https://a/alice"), ("rbac_roles", "{owner}"), ("login_type", "github"),
            ("last_seen_at", "2024-01-01 10:00"), ("quiet_hours_schedule", "CRON_TZ=UTC 0 0 * * *"), ("github_com_user_id", 42L), ("is_system", true),
            ("status", "suspended"));
        await Builder.InsertAsync("organization_members", ("organization_id", org), ("user_id", alice));

        Assert.True(await Builder.ScalarAsync<bool>("""
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
    private async Task<List<string?>> MembershipsAsync() => await Builder.ColumnAsync<string>(
        "SELECT concat_ws(' ', user_id, group_id, organization_id) FROM group_members_expanded ORDER BY 1");
}

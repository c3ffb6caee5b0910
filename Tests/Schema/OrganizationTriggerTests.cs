using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The organization triggers of <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>: system
/// roles for a new organization, the soft-delete guard, and the clean-up when a custom role or a
/// member goes away (behavior.md 2.1 to 2.4).
/// </summary>
public sealed class OrganizationTriggerTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    private const string SoftDelete = "UPDATE organizations SET deleted = true WHERE id = @org";

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
    public async Task NewOrganizationGetsMemberAndServiceAccountSystemRoles()
    {
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        var org = await rows.OrganizationAsync();

        var roles = await rows.ColumnAsync<string>("""
            SELECT concat_ws(' | ', name, display_name, site_permissions, org_permissions, user_permissions, member_permissions,
                             organization_id, is_system::text, (created_at = now() AND updated_at = now())::text, (id IS NOT NULL)::text)
            FROM custom_roles ORDER BY name
            """);

        Assert.Equal(
        [
            $"organization-member |  | [] | [] | [] | [] | {org} | true | true | true",
            $"organization-service-account |  | [] | [] | [] | [] | {org} | true | true | true",
        ], roles);
    }

    [Fact]
    public async Task NilOrganizationIdIsCheckViolationOfOrganizationIdNotZero()
    {
        await Rejection.AssertAsync(() => rows.OrganizationAsync(Guid.Empty),
            PostgresErrorCodes.CheckViolation, "organization_id_not_zero", "custom_roles");

        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM organizations"));
    }

    [Fact]
    public async Task SystemRoleNameAlreadyTakenForThatIdFailsTheOrganizationInsert()
    {
        // No foreign key from custom_roles to organizations: a role may name an id no organization has yet.
        var org = Guid.NewGuid();
        await rows.ExecuteAsync(
            "INSERT INTO custom_roles (name, display_name, organization_id) VALUES ('organization-service-account', 'Mine', @org)",
            ("org", org));

        var error = await Assert.ThrowsAsync<PostgresException>(() => rows.OrganizationAsync(org));

        Assert.Equal((PostgresErrorCodes.UniqueViolation, "custom_roles"), (error.SqlState, error.TableName));
        Assert.Equal(0L, await rows.ScalarAsync<long>("SELECT count(*) FROM organizations"));
    }

    [Fact]
    public async Task HardDeletedOrganizationLeavesItsRolesBehind()
    {
        var org = await rows.OrganizationAsync();

        await rows.ExecuteAsync("DELETE FROM organizations WHERE id = @org", ("org", org));

        Assert.Equal(2L, await rows.ScalarAsync<long>("SELECT count(*) FROM custom_roles WHERE organization_id = @org", ("org", org)));
    }

    [Fact]
    public async Task SoftDeleteOfOrganizationWithOneGroupAndOneMemberSucceeds()
    {
        var org = await rows.OrganizationAsync();
        await rows.GroupAsync(org, id: org);
        await rows.MemberAsync(org, await rows.UserAsync());

        Assert.Equal(1, await rows.ExecuteAsync(SoftDelete, ("org", org)));
        Assert.True(await rows.ScalarAsync<bool>("SELECT deleted FROM organizations WHERE id = @org", ("org", org)));
    }

    [Fact]
    public async Task SoftDeleteWithWorkspacesTemplatesAndKeysListsThemAll()
    {
        var org = await rows.OrganizationAsync();
        var owner = await rows.UserAsync();
        var (template, _) = await rows.TemplateAsync(org, owner);
        await rows.WorkspaceAsync(owner, template);
        await ProvisionerKeyAsync(org, "one");
        await ProvisionerKeyAsync(org, "two");

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 workspaces, 1 templates, 2 provisioner keys that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithOnlyTemplatesNamesOnlyTemplates()
    {
        var org = await rows.OrganizationAsync();
        var owner = await rows.UserAsync();
        await rows.TemplateAsync(org, owner);
        // A deleted workspace (on a deleted template) does not count.
        var (gone, _) = await rows.TemplateAsync(org, owner, deleted: true);
        await rows.WorkspaceAsync(owner, gone, deleted: true);

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 templates that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithOnlyDeletedWorkspacesAndTemplatesSucceeds()
    {
        var org = await rows.OrganizationAsync();
        var owner = await rows.UserAsync();
        var (template, _) = await rows.TemplateAsync(org, owner, deleted: true);
        await rows.WorkspaceAsync(owner, template, deleted: true);

        Assert.Equal(1, await rows.ExecuteAsync(SoftDelete, ("org", org)));
    }

    [Fact]
    public async Task SoftDeleteWithThreeGroupsAsksToDeleteTwo()
    {
        var org = await rows.OrganizationAsync();
        await rows.GroupAsync(org);
        await rows.GroupAsync(org);
        await rows.GroupAsync(org);

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 2 groups that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithTwoGroupsAsksToDeleteOne()
    {
        var org = await rows.OrganizationAsync();
        await rows.GroupAsync(org, id: org);
        await rows.GroupAsync(org);

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 groups that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithTwoLiveMembersAsksToDeleteOne()
    {
        var org = await rows.OrganizationAsync();
        await rows.MemberAsync(org, await rows.UserAsync());
        await rows.MemberAsync(org, await rows.UserAsync());

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 members that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteReportsProvisionerKeysBeforeGroups()
    {
        var org = await rows.OrganizationAsync();
        await rows.GroupAsync(org);
        await rows.GroupAsync(org);
        await ProvisionerKeyAsync(org, "one");

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 provisioner keys that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithThreeLiveMembersAsksToDeleteTwo()
    {
        var org = await rows.OrganizationAsync();
        for (var i = 0; i < 3; i++) await rows.MemberAsync(org, await rows.UserAsync());
        // Members whose user is deleted do not count.
        await rows.MemberAsync(org, await rows.UserAsync(deleted: true));

        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 2 members that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithOneLiveAndTwoDeletedMembersSucceeds()
    {
        var org = await rows.OrganizationAsync();
        await rows.MemberAsync(org, await rows.UserAsync());
        await rows.MemberAsync(org, await rows.UserAsync(deleted: true));
        await rows.MemberAsync(org, await rows.UserAsync(deleted: true));

        Assert.Equal(1, await rows.ExecuteAsync(SoftDelete, ("org", org)));
    }

    [Fact]
    public async Task UpdatesOtherThanFalseToTrueAreNotGuarded()
    {
        var org = await rows.OrganizationAsync(deleted: true);
        await rows.TemplateAsync(org, await rows.UserAsync());

        // Still deleted: no check. Undeleted: no check.
        Assert.Equal(1, await rows.ExecuteAsync("UPDATE organizations SET deleted = true, icon = 'x' WHERE id = @org", ("org", org)));
        Assert.Equal(1, await rows.ExecuteAsync("UPDATE organizations SET deleted = false WHERE id = @org", ("org", org)));
        // And the guard is back for the next soft delete.
        await Raised.AssertAsync(() => rows.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 templates that must be deleted first");
    }

    [Fact]
    public async Task HardDeleteIsNotGuarded()
    {
        var org = await rows.OrganizationAsync();
        await rows.TemplateAsync(org, await rows.UserAsync());
        await ProvisionerKeyAsync(org, "one");

        Assert.Equal(1, await rows.ExecuteAsync("DELETE FROM organizations WHERE id = @org", ("org", org)));
    }

    [Fact]
    public async Task DeletingOrganizationRoleRemovesEveryOccurrenceFromThatOrganizationsMembersOnly()
    {
        var org = await rows.OrganizationAsync();
        var other = await rows.OrganizationAsync();
        var alice = await rows.UserAsync();
        var bob = await rows.UserAsync();
        await rows.MemberAsync(org, alice, "auditor", "viewer", "auditor", "Auditor");
        await rows.MemberAsync(org, bob, "viewer");
        await rows.MemberAsync(other, alice, "auditor");
        await rows.ExecuteAsync("UPDATE organization_members SET updated_at = '2020-01-01 00:00:00+00'");
        await CustomRoleAsync("auditor", org);
        await CustomRoleAsync("auditor", other);

        await rows.ExecuteAsync("DELETE FROM custom_roles WHERE name = 'auditor' AND organization_id = @org", ("org", org));

        Assert.Equal(
            new[] { $"{org} {alice} {{viewer,Auditor}} 2020", $"{org} {bob} {{viewer}} 2020", $"{other} {alice} {{auditor}} 2020" }
                .Order(StringComparer.Ordinal),
            await MembersAsync(org, other));
    }

    [Fact]
    public async Task DeletingSiteWideRoleChangesNoMemberAndNoUser()
    {
        var org = await rows.OrganizationAsync();
        var alice = await rows.UserAsync();
        await rows.MemberAsync(org, alice, "auditor");
        await rows.ExecuteAsync("UPDATE organization_members SET updated_at = '2020-01-01 00:00:00+00'");
        await rows.ExecuteAsync("UPDATE users SET rbac_roles = '{auditor}' WHERE id = @alice", ("alice", alice));
        await CustomRoleAsync("auditor", null);

        Assert.Equal(1, await rows.ExecuteAsync("DELETE FROM custom_roles WHERE name = 'auditor'"));

        Assert.Equal([$"{org} {alice} {{auditor}} 2020"], await MembersAsync(org));
        Assert.Equal("{auditor}", await rows.ScalarAsync<string>("SELECT rbac_roles::text FROM users WHERE id = @alice", ("alice", alice)));
    }

    [Fact]
    public async Task RemovingMemberDeletesTheirGroupMembershipsInThatOrganizationOnly()
    {
        var org = await rows.OrganizationAsync();
        var other = await rows.OrganizationAsync();
        var alice = await rows.UserAsync();
        var bob = await rows.UserAsync();
        var orgGroups = new[] { await rows.GroupAsync(org), await rows.GroupAsync(org) };
        var otherGroup = await rows.GroupAsync(other);
        await rows.MemberAsync(org, alice);
        await rows.MemberAsync(org, bob);
        await rows.MemberAsync(other, alice);
        foreach (var group in orgGroups) await rows.GroupMemberAsync(group, alice);
        await rows.GroupMemberAsync(orgGroups[0], bob);
        await rows.GroupMemberAsync(otherGroup, alice);

        await rows.ExecuteAsync("DELETE FROM organization_members WHERE organization_id = @org AND user_id = @alice", ("org", org), ("alice", alice));

        Assert.Equal(
            new[] { $"{orgGroups[0]} {bob}", $"{otherGroup} {alice}" }.Order(StringComparer.Ordinal),
            (await rows.ColumnAsync<string>("SELECT group_id || ' ' || user_id FROM group_members")).Order(StringComparer.Ordinal));
    }

    private Task ProvisionerKeyAsync(Guid org, string name) => rows.ExecuteAsync("""
        INSERT INTO provisioner_keys (id, created_at, organization_id, name, hashed_secret, tags)
        VALUES (gen_random_uuid(), now(), @org, @name, '\x01', '{}')
        """, ("org", org), ("name", name));

    private Task CustomRoleAsync(string name, Guid? org) => rows.ExecuteAsync(
        "INSERT INTO custom_roles (name, display_name, organization_id) VALUES (@name, @name, @org::uuid)",
        ("name", name), ("org", org?.ToString()));

    /// <summary>Every member row of the organizations as "org user roles year-of-updated_at", sorted.</summary>
    private async Task<List<string>> MembersAsync(params Guid[] orgs) =>
        (await rows.ColumnAsync<string>(
            "SELECT organization_id || ' ' || user_id || ' ' || roles::text || ' ' || extract(year FROM updated_at AT TIME ZONE 'UTC') FROM organization_members WHERE organization_id = ANY(@orgs)",
            ("orgs", orgs)))
        .Select(m => m!).Order(StringComparer.Ordinal).ToList();
}

using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The organization triggers of <see cref="M2026_02_16_0001_AddOrganizationTriggers"/>: system
/// roles for a new organization, the soft-delete guard, and the clean-up when a custom role or a
/// member goes away (behavior.md 2.1 to 2.4).
/// </summary>
public sealed class OrganizationTriggerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private const string SoftDelete = "UPDATE organizations SET deleted = true WHERE id = @org";

    [Fact]
    public async Task NewOrganizationGetsMemberAndServiceAccountSystemRoles()
    {
        await using var transaction = await Builder.Connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        var org = await Builder.InsertIdAsync("organizations");

        var roles = await Builder.ColumnAsync<string>("""
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
        await Rejection.AssertAsync(() => Builder.InsertAsync("organizations", ("id", Guid.Empty)),
            PostgresErrorCodes.CheckViolation, "organization_id_not_zero", "custom_roles");

        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM organizations"));
    }

    [Fact]
    public async Task SystemRoleNameAlreadyTakenForThatIdFailsTheOrganizationInsert()
    {
        // No foreign key from custom_roles to organizations: a role may name an id no organization has yet.
        var org = Guid.NewGuid();
        await Builder.InsertAsync("custom_roles", ("name", "organization-service-account"), ("display_name", "Mine"), ("organization_id", org));

        var error = await Assert.ThrowsAsync<PostgresException>(() => Builder.InsertAsync("organizations", ("id", org)));

        Assert.Equal((PostgresErrorCodes.UniqueViolation, "custom_roles"), (error.SqlState, error.TableName));
        Assert.Equal(0L, await Builder.ScalarAsync<long>("SELECT count(*) FROM organizations"));
    }

    [Fact]
    public async Task HardDeletedOrganizationLeavesItsRolesBehind()
    {
        var org = await Builder.InsertIdAsync("organizations");

        await Builder.ExecuteAsync("DELETE FROM organizations WHERE id = @org", ("org", org));

        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(*) FROM custom_roles WHERE organization_id = @org", ("org", org)));
    }

    [Fact]
    public async Task SoftDeleteOfOrganizationWithOneGroupAndOneMemberSucceeds()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await Builder.InsertAsync("groups", ("organization_id", org), ("id", org));
        await MemberAsync(org, await Builder.InsertIdAsync("users"));

        Assert.Equal(1, await Builder.ExecuteAsync(SoftDelete, ("org", org)));
        Assert.True(await Builder.ScalarAsync<bool>("SELECT deleted FROM organizations WHERE id = @org", ("org", org)));
    }

    [Fact]
    public async Task SoftDeleteWithWorkspacesTemplatesAndKeysListsThemAll()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var owner = await Builder.InsertIdAsync("users");
        var template = (await Builder.TemplateAsync(("organization_id", org), ("created_by", owner))).Template;
        await Builder.WorkspaceAsync(template, owner);
        await ProvisionerKeyAsync(org, "one");
        await ProvisionerKeyAsync(org, "two");

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 workspaces, 1 templates, 2 provisioner keys that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithOnlyTemplatesNamesOnlyTemplates()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var owner = await Builder.InsertIdAsync("users");
        await Builder.TemplateAsync(("organization_id", org), ("created_by", owner));
        // A deleted workspace (on a deleted template) does not count.
        var gone = (await Builder.TemplateAsync(("organization_id", org), ("created_by", owner), ("deleted", true))).Template;
        await Builder.WorkspaceAsync(gone, owner, ("deleted", true));

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 templates that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithOnlyDeletedWorkspacesAndTemplatesSucceeds()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var owner = await Builder.InsertIdAsync("users");
        var template = (await Builder.TemplateAsync(("organization_id", org), ("created_by", owner), ("deleted", true))).Template;
        await Builder.WorkspaceAsync(template, owner, ("deleted", true));

        Assert.Equal(1, await Builder.ExecuteAsync(SoftDelete, ("org", org)));
    }

    [Fact]
    public async Task SoftDeleteWithThreeGroupsAsksToDeleteTwo()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await Builder.InsertAsync("groups", ("organization_id", org));
        await Builder.InsertAsync("groups", ("organization_id", org));
        await Builder.InsertAsync("groups", ("organization_id", org));

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 2 groups that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithTwoGroupsAsksToDeleteOne()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await Builder.InsertAsync("groups", ("organization_id", org), ("id", org));
        await Builder.InsertAsync("groups", ("organization_id", org));

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 groups that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithTwoLiveMembersAsksToDeleteOne()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await MemberAsync(org, await Builder.InsertIdAsync("users"));
        await MemberAsync(org, await Builder.InsertIdAsync("users"));

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 members that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteReportsProvisionerKeysBeforeGroups()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await Builder.InsertAsync("groups", ("organization_id", org));
        await Builder.InsertAsync("groups", ("organization_id", org));
        await ProvisionerKeyAsync(org, "one");

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 provisioner keys that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithThreeLiveMembersAsksToDeleteTwo()
    {
        var org = await Builder.InsertIdAsync("organizations");
        for (var i = 0; i < 3; i++) await MemberAsync(org, await Builder.InsertIdAsync("users"));
        // Members whose user is deleted do not count.
        await MemberAsync(org, await Builder.InsertIdAsync("users", ("deleted", true)));

        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 2 members that must be deleted first");
    }

    [Fact]
    public async Task SoftDeleteWithOneLiveAndTwoDeletedMembersSucceeds()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await MemberAsync(org, await Builder.InsertIdAsync("users"));
        await MemberAsync(org, await Builder.InsertIdAsync("users", ("deleted", true)));
        await MemberAsync(org, await Builder.InsertIdAsync("users", ("deleted", true)));

        Assert.Equal(1, await Builder.ExecuteAsync(SoftDelete, ("org", org)));
    }

    [Fact]
    public async Task UpdatesOtherThanFalseToTrueAreNotGuarded()
    {
        var org = await Builder.InsertIdAsync("organizations", ("deleted", true));
        await Builder.TemplateAsync(("organization_id", org), ("created_by", await Builder.InsertIdAsync("users")));

        // Still deleted: no check. Undeleted: no check.
        Assert.Equal(1, await Builder.ExecuteAsync("UPDATE organizations SET deleted = true, icon = 'x' WHERE id = @org", ("org", org)));
        Assert.Equal(1, await Builder.ExecuteAsync("UPDATE organizations SET deleted = false WHERE id = @org", ("org", org)));
        // And the guard is back for the next soft delete.
        await Raised.AssertAsync(() => Builder.ExecuteAsync(SoftDelete, ("org", org)), PostgresErrorCodes.RaiseException,
            "cannot delete organization: organization has 1 templates that must be deleted first");
    }

    [Fact]
    public async Task HardDeleteIsNotGuarded()
    {
        var org = await Builder.InsertIdAsync("organizations");
        await Builder.TemplateAsync(("organization_id", org), ("created_by", await Builder.InsertIdAsync("users")));
        await ProvisionerKeyAsync(org, "one");

        Assert.Equal(1, await Builder.ExecuteAsync("DELETE FROM organizations WHERE id = @org", ("org", org)));
    }

    [Fact]
    public async Task DeletingOrganizationRoleRemovesEveryOccurrenceFromThatOrganizationsMembersOnly()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var other = await Builder.InsertIdAsync("organizations");
        var alice = await Builder.InsertIdAsync("users");
        var bob = await Builder.InsertIdAsync("users");
        await MemberAsync(org, alice, "auditor", "viewer", "auditor", "Auditor");
        await MemberAsync(org, bob, "viewer");
        await MemberAsync(other, alice, "auditor");
        await Builder.ExecuteAsync("UPDATE organization_members SET updated_at = '2020-01-01 00:00:00+00'");
        await CustomRoleAsync("auditor", org);
        await CustomRoleAsync("auditor", other);

        await Builder.ExecuteAsync("DELETE FROM custom_roles WHERE name = 'auditor' AND organization_id = @org", ("org", org));

        Assert.Equal(
            new[] { $"{org} {alice} {{viewer,Auditor}} 2020", $"{org} {bob} {{viewer}} 2020", $"{other} {alice} {{auditor}} 2020" }
                .Order(StringComparer.Ordinal),
            await MembersAsync(org, other));
    }

    [Fact]
    public async Task DeletingSiteWideRoleChangesNoMemberAndNoUser()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var alice = await Builder.InsertIdAsync("users");
        await MemberAsync(org, alice, "auditor");
        await Builder.ExecuteAsync("UPDATE organization_members SET updated_at = '2020-01-01 00:00:00+00'");
        await Builder.ExecuteAsync("UPDATE users SET rbac_roles = '{auditor}' WHERE id = @alice", ("alice", alice));
        await CustomRoleAsync("auditor", null);

        Assert.Equal(1, await Builder.ExecuteAsync("DELETE FROM custom_roles WHERE name = 'auditor'"));

        Assert.Equal([$"{org} {alice} {{auditor}} 2020"], await MembersAsync(org));
        Assert.Equal("{auditor}", await Builder.ScalarAsync<string>("SELECT rbac_roles::text FROM users WHERE id = @alice", ("alice", alice)));
    }

    [Fact]
    public async Task RemovingMemberDeletesTheirGroupMembershipsInThatOrganizationOnly()
    {
        var org = await Builder.InsertIdAsync("organizations");
        var other = await Builder.InsertIdAsync("organizations");
        var alice = await Builder.InsertIdAsync("users");
        var bob = await Builder.InsertIdAsync("users");
        var orgGroups = new[] { await Builder.InsertIdAsync("groups", ("organization_id", org)), await Builder.InsertIdAsync("groups", ("organization_id", org)) };
        var otherGroup = await Builder.InsertIdAsync("groups", ("organization_id", other));
        await MemberAsync(org, alice);
        await MemberAsync(org, bob);
        await MemberAsync(other, alice);
        foreach (var group in orgGroups) await Builder.InsertAsync("group_members", ("group_id", group), ("user_id", alice));
        await Builder.InsertAsync("group_members", ("group_id", orgGroups[0]), ("user_id", bob));
        await Builder.InsertAsync("group_members", ("group_id", otherGroup), ("user_id", alice));

        await Builder.ExecuteAsync("DELETE FROM organization_members WHERE organization_id = @org AND user_id = @alice", ("org", org), ("alice", alice));

        Assert.Equal(
            new[] { $"{orgGroups[0]} {bob}", $"{otherGroup} {alice}" }.Order(StringComparer.Ordinal),
            (await Builder.ColumnAsync<string>("SELECT group_id || ' ' || user_id FROM group_members")).Order(StringComparer.Ordinal));
    }

    /// <summary>Makes <paramref name="user"/> a member of <paramref name="org"/> holding <paramref name="roles"/>.</summary>
    private Task<Row> MemberAsync(Guid org, Guid user, params string[] roles) =>
        Builder.InsertAsync("organization_members", ("organization_id", org), ("user_id", user), ("roles", $"{{{string.Join(',', roles)}}}"));

    private Task<Row> ProvisionerKeyAsync(Guid org, string name) => Builder.InsertAsync("provisioner_keys", ("organization_id", org), ("name", name));

    private Task<Row> CustomRoleAsync(string name, Guid? org) => Builder.InsertAsync("custom_roles", ("name", name), ("display_name", name), ("organization_id", org));

    /// <summary>Every member row of the organizations as "org user roles year-of-updated_at", sorted.</summary>
    private async Task<List<string>> MembersAsync(params Guid[] orgs) =>
        (await Builder.ColumnAsync<string>(
            "SELECT organization_id || ' ' || user_id || ' ' || roles::text || ' ' || extract(year FROM updated_at AT TIME ZONE 'UTC') FROM organization_members WHERE organization_id = ANY(@orgs)",
            ("orgs", orgs)))
        .Select(m => m!).Order(StringComparer.Ordinal).ToList();
}

using Coderd.Database.Generator;

namespace Coderd.Database.UnitTests.Constraints;

/// <summary>The rule that turns a SQL constraint name into an enum member name.</summary>
public sealed class ConstraintNamingTests
{
    [Theory]
    [InlineData("api_keys_allow_list_not_empty", "ApiKeysAllowListNotEmpty")]
    [InlineData("organization_id_not_zero", "OrganizationIdNotZero")]
    [InlineData("mcp_server_configs_oauth2_client_secret_key_id_fkey", "McpServerConfigsOauth2ClientSecretKeyIdFkey")]
    [InlineData("idx_users_email", "IdxUsersEmail")]
    [InlineData("Users_EMAIL_key", "UsersEmailKey")]
    [InlineData("a__b_", "AB")]
    public void SqlNameBecomesPascalCaseWithoutAcronyms(string sqlName, string expected)
    {
        Assert.Equal(expected, ConstraintNaming.ToMemberName(sqlName));
    }

    [Theory]
    [InlineData("")]
    [InlineData("___")]
    [InlineData("2fa_required")]
    [InlineData("users-email-key")]
    [InlineData("naïve_check")]
    public void NameThatIsNoIdentifierIsRefusedWithTheName(string sqlName)
    {
        var error = Assert.Throws<ArgumentException>(() => ConstraintNaming.ToMemberName(sqlName));

        Assert.Contains($"'{sqlName}'", error.Message, StringComparison.Ordinal);
    }
}

using Coderd.Database.Constraints;

namespace Coderd.Database.UnitTests.Constraints;

/// <summary>The generated name lookups agree with each other for every member of every enum.</summary>
public sealed class ConstraintLookupTests
{
    [Fact]
    public void EveryMemberRoundTripsThroughItsSqlName()
    {
        foreach (var c in Enum.GetValues<CheckConstraint>())
        {
            Assert.True(ConstraintNames.TryParseCheck(c.SqlName(), out var parsed));
            Assert.Equal(c, parsed);
            Assert.Equal(c.ToString(), Pascal(c.SqlName()));
        }

        foreach (var u in Enum.GetValues<UniqueConstraint>())
        {
            Assert.True(ConstraintNames.TryParseUnique(u.SqlName(), out var parsed));
            Assert.Equal(u, parsed);
            Assert.Equal(u.ToString(), Pascal(u.SqlName()));
        }

        foreach (var f in Enum.GetValues<ForeignKeyConstraint>())
        {
            Assert.True(ConstraintNames.TryParseForeignKey(f.SqlName(), out var parsed));
            Assert.Equal(f, parsed);
            Assert.Equal(f.ToString(), Pascal(f.SqlName()));
        }
    }

    [Fact]
    public void TableNamesAreThoseOfTheSpec()
    {
        Assert.Equal("mcp_server_configs", CheckConstraint.McpServerConfigsTransportCheck.TableName());
        Assert.Equal("custom_roles", CheckConstraint.OrganizationIdNotZero.TableName());
        Assert.Equal("workspaces", CheckConstraint.GroupAclIsObject.TableName());
        Assert.Equal("mcp_server_user_tokens", UniqueConstraint.McpServerUserTokensMcpServerConfigIdUserIdKey.TableName());
        Assert.Equal("users", UniqueConstraint.UsersEmailLowerIdx.TableName());
        Assert.Equal("api_keys", ForeignKeyConstraint.ApiKeysUserIdUuidFkey.TableName());
    }

    [Fact]
    public void UnknownOrMiscasedNameDoesNotParse()
    {
        Assert.False(ConstraintNames.TryParseCheck("mcp_server_configs_url_check", out _));
        Assert.False(ConstraintNames.TryParseCheck("MCP_SERVER_CONFIGS_TRANSPORT_CHECK", out _));
        Assert.False(ConstraintNames.TryParseCheck(null, out _));
        Assert.False(ConstraintNames.TryParseUnique("", out _));
        Assert.False(ConstraintNames.TryParseForeignKey("mcp_server_configs_slug_key", out _));
    }

    [Fact]
    public void ValueOutsideTheEnumThrowsFromSqlNameAndTableName()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((CheckConstraint)(-1)).SqlName());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((UniqueConstraint)1000).TableName());
    }

    private static string Pascal(string sqlName) => Generator.ConstraintNaming.ToMemberName(sqlName);
}

using Coderd.Database.Constraints;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>The unique, foreign-key and NOT NULL errors of the MCP tables, as the server sends them, classified.</summary>
public sealed class McpViolationTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task DuplicateSlugIsUniqueViolationOfSlugKey()
    {
        var error = await ViolatingWrites.CaptureAsync(database, p =>
            $"INSERT INTO mcp_server_configs (display_name, slug, url) VALUES ('Other', '{p.Slug}', 'https://other.example.com')");

        Assert.True(error.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey));
        Assert.False(error.IsUniqueViolation(UniqueConstraint.McpServerConfigsPkey));
        Assert.False(error.IsCheckViolation());
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Unique, violation.Kind);
        Assert.Equal(UniqueConstraint.McpServerConfigsSlugKey, violation.Unique);
        Assert.Equal("mcp_server_configs", violation.TableName);
    }

    [Fact]
    public async Task SecondTokenForSameConfigAndUserIsUniqueViolationOfConfigUserKey()
    {
        var error = await ViolatingWrites.CaptureAsync(database, p =>
            $"INSERT INTO mcp_server_user_tokens (mcp_server_config_id, user_id, access_token) VALUES ('{p.McpServerConfig}', '{p.User}', 'second')");

        Assert.True(error.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey, UniqueConstraint.McpServerUserTokensMcpServerConfigIdUserIdKey));
        Assert.False(error.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey));
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Unique, violation.Kind);
        Assert.Equal(UniqueConstraint.McpServerUserTokensMcpServerConfigIdUserIdKey, violation.Unique);
        Assert.Equal("mcp_server_user_tokens", violation.TableName);
    }

    public static TheoryData<string, string, ForeignKeyConstraint> KeyIdColumns { get; } = new()
    {
        { "mcp_server_configs", "oauth2_client_secret_key_id", ForeignKeyConstraint.McpServerConfigsOauth2ClientSecretKeyIdFkey },
        { "mcp_server_configs", "api_key_value_key_id", ForeignKeyConstraint.McpServerConfigsApiKeyValueKeyIdFkey },
        { "mcp_server_configs", "custom_headers_key_id", ForeignKeyConstraint.McpServerConfigsCustomHeadersKeyIdFkey },
        { "mcp_server_user_tokens", "access_token_key_id", ForeignKeyConstraint.McpServerUserTokensAccessTokenKeyIdFkey },
        { "mcp_server_user_tokens", "refresh_token_key_id", ForeignKeyConstraint.McpServerUserTokensRefreshTokenKeyIdFkey },
    };

    [Theory]
    [MemberData(nameof(KeyIdColumns))]
    public async Task UnknownKeyDigestIsForeignKeyViolationOfItsKeyIdFkey(string table, string column, ForeignKeyConstraint expected)
    {
        var error = await ViolatingWrites.CaptureAsync(database, p =>
            $"UPDATE {table} SET {column} = 'no-such-digest' WHERE {(table == "mcp_server_configs" ? "id" : "mcp_server_config_id")} = '{p.McpServerConfig}'");

        Assert.True(error.IsForeignKeyViolation(expected));
        Assert.True(error.IsForeignKeyViolation());
        foreach (var other in Enum.GetValues<ForeignKeyConstraint>().Where(f => f != expected))
        {
            Assert.False(error.IsForeignKeyViolation(other), $"IsForeignKeyViolation({other}) was true for {expected}.");
        }

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.ForeignKey, violation.Kind);
        Assert.Equal(expected, violation.ForeignKey);
        Assert.Equal(table, violation.TableName);
    }

    [Fact]
    public async Task NullDisplayNameIsNotNullViolationWithColumn()
    {
        var error = await ViolatingWrites.CaptureAsync(database, p =>
            $"UPDATE mcp_server_configs SET display_name = NULL WHERE id = '{p.McpServerConfig}'");

        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.NotNull, violation.Kind);
        Assert.Equal("display_name", violation.ColumnName);
        Assert.Equal("mcp_server_configs", violation.TableName);
        Assert.Null(violation.ConstraintName);
        Assert.Null(violation.Check);
        Assert.Null(violation.Unique);
        Assert.Null(violation.ForeignKey);
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());
    }

    [Fact]
    public async Task ConstraintUnknownToThisBuildIsReportedWithoutTypedValue()
    {
        // A constraint a newer schema might add: real server error, name not in the enums.
        var error = await ViolatingWrites.CaptureAsync(database, _ =>
            "CREATE TEMP TABLE newer_schema (n int CONSTRAINT newer_schema_n_check CHECK (n > 0)); INSERT INTO newer_schema VALUES (0)");

        Assert.True(error.IsCheckViolation());
        Assert.False(error.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck));
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(ConstraintKind.Check, violation.Kind);
        Assert.Equal("newer_schema_n_check", violation.ConstraintName);
        Assert.Equal("newer_schema", violation.TableName);
        Assert.Null(violation.Check);
    }

    [Fact]
    public async Task ErrorOfAnotherClassIsNoViolation()
    {
        var error = await ViolatingWrites.CaptureAsync(database, _ => "INSERT INTO no_such_table VALUES (1)");

        Assert.Equal(PostgresErrorCodes.UndefinedTable, error.SqlState);
        Assert.False(error.TryGetConstraintViolation(out var violation));
        Assert.Null(violation);
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());
    }
}

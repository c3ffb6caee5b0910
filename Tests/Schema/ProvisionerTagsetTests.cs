using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// <c>provisioner_tagset_contains</c> of <see cref="M2026_02_16_0007_AddProvisionerTagsetContains"/>,
/// case by case from behavior.md 2.18. It reads no table, so the class needs no reset.
/// </summary>
public sealed class ProvisionerTagsetTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    /// <summary>provisioner tags, job tags (SQL NULL as null), expected result (null for NULL).</summary>
    public static TheoryData<string?, string?, bool?> Cases { get; } = new()
    {
        { """{"scope":"organization","owner":""}""", """{"scope":"organization","owner":""}""", true },
        { """{"scope":"organization","owner":"","foo":"bar"}""", """{"scope":"organization","owner":""}""", false },
        { """{"scope":"organization"}""", """{"scope":"organization","owner":""}""", false },
        { """{"scope":"organization","owner":"","foo":"bar"}""", """{"scope":"organization"}""", true },
        { """{"scope":"organization","owner":"","foo":"bar"}""", """{"scope":"organization","foo":"bar"}""", true },
        { """{"scope":"organization","owner":"","foo":"bar"}""", """{"scope":"organization","foo":"baz"}""", false },
        { """{"scope":"user","owner":"u1","a":"b"}""", """{"scope":"user","owner":"u1"}""", true },
        { """{"scope":"user","owner":"u1"}""", """{"scope":"user","owner":"u1","a":"b"}""", false },
        { """{"a":"b"}""", "{}", true },
        { null, "{}", null },
        // Key order does not matter for the untagged-job rule, and NULL on the other side is NULL too.
        { """{"owner":"","scope":"organization"}""", """{"owner":"","scope":"organization"}""", true },
        { null, """{"scope":"organization","owner":""}""", null },
        { "{}", null, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ContainsFollowsTheTable(string? provisionerTags, string? jobTags, bool? expected)
    {
        Assert.Equal(expected, await ContainsAsync("SELECT provisioner_tagset_contains(@provisioner::tagset, @job::tagset)", provisionerTags, jobTags));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PlainJsonbArgumentsAreAccepted(string? provisionerTags, string? jobTags, bool? expected)
    {
        Assert.Equal(expected, await ContainsAsync("SELECT provisioner_tagset_contains(@provisioner::jsonb, @job::jsonb)", provisionerTags, jobTags));
    }

    private async Task<bool?> ContainsAsync(string sql, string? provisionerTags, string? jobTags)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter("provisioner", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)provisionerTags ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("job", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)jobTags ?? DBNull.Value });
        var result = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return result is DBNull ? null : (bool)result!;
    }
}

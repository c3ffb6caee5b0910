using Coderd.Database.Migrations.Versions;
using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The triggers of <see cref="M2026_02_16_0003_AddNotificationTriggers"/>: a message the user has
/// not enabled is refused, and the dedupe hash lets a message through once per UTC day
/// (behavior.md 2.10 and 2.11).
/// </summary>
public sealed class NotificationTriggerTests(MigratedDatabase database) : EmptyDatabaseTest(database)
{
    private const string Disabled = "cannot enqueue message: notification is not enabled";

    private Guid _user;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _user = await Builder.InsertIdAsync("users");
    }

    [Fact]
    public async Task TemplateEnabledByDefaultWithoutPreferenceIsEnqueued()
    {
        var template = await TemplateAsync(enabledByDefault: true);

        await MessageAsync(template);

        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM notification_messages"));
    }

    [Fact]
    public async Task DisabledPreferenceIsRefused()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        await PreferenceAsync(template, disabled: true);

        await Raised.AssertAsync(() => MessageAsync(template), PostgresErrorCodes.RaiseException, Disabled);
    }

    [Fact]
    public async Task TemplateDisabledByDefaultWithoutPreferenceIsRefused()
    {
        var template = await TemplateAsync(enabledByDefault: false);

        await Raised.AssertAsync(() => MessageAsync(template), PostgresErrorCodes.RaiseException, Disabled);
    }

    [Fact]
    public async Task EnabledPreferenceAllowsTemplateDisabledByDefault()
    {
        var template = await TemplateAsync(enabledByDefault: false);
        await PreferenceAsync(template, disabled: false);

        await MessageAsync(template);

        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM notification_messages"));
    }

    [Fact]
    public async Task AnotherUsersDisabledPreferenceDoesNotCount()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        var other = await Builder.InsertIdAsync("users");
        await Builder.InsertAsync("notification_preferences", ("user_id", other), ("notification_template_id", template), ("disabled", true));

        await MessageAsync(template);

        Assert.Equal(1L, await Builder.ScalarAsync<long>("SELECT count(*) FROM notification_messages"));
    }

    [Fact]
    public async Task UnknownTemplateIsForeignKeyViolation()
    {
        await Rejection.AssertAsync(() => MessageAsync(Guid.NewGuid()),
            PostgresErrorCodes.ForeignKeyViolation, "notification_messages_notification_template_id_fkey", "notification_messages");
    }

    [Fact]
    public async Task UpdatesAreNotCheckedAgainstPreferences()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        await MessageAsync(template);
        await PreferenceAsync(template, disabled: true);

        Assert.Equal(1, await Builder.ExecuteAsync("UPDATE notification_messages SET status = 'sent'"));
    }

    [Fact]
    public async Task HashIsMd5OfTheJoinedPartsWithTheUtcDay()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        var (u1, u2) = (Guid.NewGuid(), Guid.NewGuid());
        // The day is UTC's whatever the session says: 23:30 in New York on the 5th is the 6th in UTC.
        await Builder.ExecuteAsync("SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'");

        var id = await MessageAsync(template, """{"b":1,"a":[1,2]}""", [u2, u1], "2024-03-05 23:30:00-05");

        Assert.Equal(
            Md5($$"""{{template}}:{{_user}}:smtp:{"a": [1, 2], "b": 1}:{{u2}},{{u1}}:2024-03-06 00:00:00"""),
            await HashAsync(id));
    }

    [Fact]
    public async Task NullTargetsAreLeftOutAndEmptyTargetsGiveAnEmptyPart()
    {
        var template = await TemplateAsync(enabledByDefault: true);

        var none = await MessageAsync(template, """{"b":1,"a":[1,2]}""", null, "2024-03-05 12:00:00+00");
        var empty = await MessageAsync(template, """{"b":1,"a":[1,2]}""", [], "2024-03-05 12:00:00+00");

        Assert.Equal(Md5($$"""{{template}}:{{_user}}:smtp:{"a": [1, 2], "b": 1}:2024-03-05 00:00:00"""), await HashAsync(none));
        Assert.Equal(Md5($$"""{{template}}:{{_user}}:smtp:{"a": [1, 2], "b": 1}::2024-03-05 00:00:00"""), await HashAsync(empty));
    }

    [Fact]
    public async Task HashIsRecomputedOnUpdateReplacingTheCallersValue()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        var id = await MessageAsync(template, "{}", null, "2024-03-05 12:00:00+00");

        await Builder.ExecuteAsync("UPDATE notification_messages SET dedupe_hash = 'mine', payload = '{\"x\": 1}' WHERE id = @id", ("id", id));

        Assert.Equal(Md5($$"""{{template}}:{{_user}}:smtp:{"x": 1}:2024-03-05 00:00:00"""), await HashAsync(id));
    }

    [Fact]
    public async Task SameMessageOnSameUtcDayIsUniqueViolationWhateverTheCreator()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        await MessageAsync(template, "{}", null, "2024-03-05 00:00:00+00", createdBy: "alice");

        await Rejection.AssertAsync(() => MessageAsync(template, "{}", null, "2024-03-05 23:59:59+00", createdBy: "bob"),
            PostgresErrorCodes.UniqueViolation, "notification_messages_dedupe_hash_idx", "notification_messages");
    }

    [Fact]
    public async Task SameMessageOnNextUtcDayIsAccepted()
    {
        var template = await TemplateAsync(enabledByDefault: true);
        await MessageAsync(template, "{}", null, "2024-03-05 23:59:59+00");

        await MessageAsync(template, "{}", null, "2024-03-06 00:00:00+00");

        Assert.Equal(2L, await Builder.ScalarAsync<long>("SELECT count(DISTINCT dedupe_hash) FROM notification_messages"));
    }

    private Task<Guid> TemplateAsync(bool enabledByDefault) => Builder.InsertIdAsync("notification_templates", ("enabled_by_default", enabledByDefault));

    private Task<Row> PreferenceAsync(Guid template, bool disabled) =>
        Builder.InsertAsync("notification_preferences", ("user_id", _user), ("notification_template_id", template), ("disabled", disabled));

    /// <summary>Inserts an smtp message for the class's user and returns its id; <paramref name="targets"/> null is SQL NULL.</summary>
    private Task<Guid> MessageAsync(
        Guid template, string payload = "{}", Guid[]? targets = null, string created = "2024-03-05 12:00:00+00", string createdBy = "test") =>
        Builder.InsertIdAsync(
            "notification_messages", ("notification_template_id", template), ("user_id", _user), ("method", "smtp"), ("created_by", createdBy),
            ("payload", payload), ("targets", targets is null ? null : $"{{{string.Join(',', targets)}}}"), ("created_at", created));

    private async Task<string?> HashAsync(Guid id) =>
        await Builder.ScalarAsync<string>("SELECT dedupe_hash FROM notification_messages WHERE id = @id", ("id", id));

    private static string Md5(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}

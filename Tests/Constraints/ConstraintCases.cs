using System.Text.RegularExpressions;
using Coderd.Database.Constraints;
using Coderd.Database.Tests.Schema;
using Npgsql;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// The constraint cases, one table: for each CHECK a row it rejects and a neighbouring row it
/// accepts (written by hand, the CHECKs being all different), and for each unique index and
/// foreign key the write that breaks it, derived from the catalog by <see cref="RowBuilder"/>.
/// </summary>
internal static partial class ConstraintCases
{
    /// <summary>
    /// The value of a CHECK'd column that no row can break: <c>array_length('{}', 1)</c> is NULL and
    /// NULL passes a CHECK, and the column is NOT NULL (schema.md §1, #1).
    /// </summary>
    public const CheckConstraint NeverRejects = CheckConstraint.ApiKeysAllowListNotEmpty;

    /// <summary>Writes each CHECK rejects, at least one per member but <see cref="NeverRejects"/>.</summary>
    public static readonly CheckCase[] Rejected =
    [
        Insert(CheckConstraint.ChatModelConfigsCompressionThresholdCheck, "threshold above 100", ("compression_threshold", "101")),
        Insert(CheckConstraint.ChatModelConfigsCompressionThresholdCheck, "negative threshold", ("compression_threshold", "-1")),
        Insert(CheckConstraint.ChatModelConfigsContextLimitCheck, "zero context limit", ("context_limit", "0")),
        Insert(CheckConstraint.ChatModelConfigsContextLimitCheck, "negative context limit", ("context_limit", "-1")),
        Insert(CheckConstraint.ChatProvidersProviderCheck, "unknown provider", ("provider", "mistral")),
        Insert(CheckConstraint.ChatProvidersProviderCheck, "known provider in other case", ("provider", "Anthropic")),
        Run(CheckConstraint.ChatUsageLimitConfigDefaultLimitMicrosCheck, "negative default limit", "UPDATE chat_usage_limit_config SET default_limit_micros = -1"),
        Run(CheckConstraint.ChatUsageLimitConfigPeriodCheck, "unknown period", "UPDATE chat_usage_limit_config SET period = 'year'"),
        Run(CheckConstraint.ChatUsageLimitConfigSingletonCheck, "singleton set to false", "UPDATE chat_usage_limit_config SET singleton = false"),
        // The CHECK is evaluated before the UNIQUE index is touched, so a false row never reaches it.
        Insert(CheckConstraint.ChatUsageLimitConfigSingletonCheck, "second row with singleton false", ("singleton", "false")),
        Insert(CheckConstraint.OrganizationIdNotZero, "zero organization id", ("organization_id", "00000000-0000-0000-0000-000000000000")),
        Insert(CheckConstraint.GroupsChatSpendLimitMicrosCheck, "zero spend limit", ("chat_spend_limit_micros", "0")),
        Insert(CheckConstraint.GroupsChatSpendLimitMicrosCheck, "negative spend limit", ("chat_spend_limit_micros", "-5")),
        Insert(CheckConstraint.OneTimePasscodeSet, "passcode without expiry", ("hashed_one_time_passcode", "\\x01")),
        Insert(CheckConstraint.OneTimePasscodeSet, "expiry without passcode", ("one_time_passcode_expires_at", "2026-03-20 08:00:00+00")),
        Insert(CheckConstraint.UsersChatSpendLimitMicrosCheck, "zero spend limit", ("chat_spend_limit_micros", "0")),
        Insert(CheckConstraint.UsersEmailNotEmpty, "person without e-mail", ("email", "")),
        Insert(CheckConstraint.UsersEmailNotEmpty, "service account with e-mail", ("is_service_account", "true"), ("login_type", "none"), ("email", "bot@example.com")),
        Insert(CheckConstraint.UsersServiceAccountLoginType, "service account with password login", ("is_service_account", "true"), ("login_type", "password"), ("email", "")),
        Insert(CheckConstraint.UsersUsernameMinLength, "empty username", ("username", "")),
        // username defaults to '', which the CHECK then rejects (schema.md §1, #14).
        Insert(CheckConstraint.UsersUsernameMinLength, "username left to its default", ("username", RowBuilder.Default)),
        Insert(CheckConstraint.McpServerConfigsAuthTypeCheck, "unknown auth type", ("auth_type", "basic")),
        Insert(CheckConstraint.McpServerConfigsAvailabilityCheck, "unknown availability", ("availability", "always_on")),
        Insert(CheckConstraint.McpServerConfigsTransportCheck, "unknown transport", ("transport", "stdio")),
        Insert(CheckConstraint.MaxProvisionerLogsLength, "one byte over 1 MiB", ("logs_length", "1048577")),
        Insert(CheckConstraint.MaxLogsLength, "one byte over 1 MiB", ("logs_length", "1048577")),
        Insert(CheckConstraint.SubsystemsNotNone, "only none", ("subsystems", "{none}")),
        Insert(CheckConstraint.SubsystemsNotNone, "none among others", ("subsystems", "{envbox,none}")),
        Insert(CheckConstraint.WorkspaceBuildsDeadlineBelowMaxDeadline, "deadline after max deadline", ("deadline", "2026-03-20 12:00:00+00"), ("max_deadline", "2026-03-20 08:00:00+00")),
        Insert(CheckConstraint.WorkspaceBuildsDeadlineBelowMaxDeadline, "zero deadline with a max deadline", ("deadline", "0001-01-01 00:00:00+00"), ("max_deadline", "2026-03-20 08:00:00+00")),
        Insert(CheckConstraint.GroupAclIsObject, "array group ACL", ("group_acl", "[]")),
        Insert(CheckConstraint.UserAclIsObject, "JSON null user ACL", ("user_acl", "null")),
        Insert(CheckConstraint.UserAclIsObject, "string user ACL", ("user_acl", "\"everyone\"")),
        Insert(CheckConstraint.TelemetryLockEventTypeConstraint, "unknown event type", ("event_type", "heartbeat")),
        Insert(CheckConstraint.ValidationMonotonicOrder, "unknown order", ("validation_monotonic", "sideways")),
        Insert(CheckConstraint.UsageEventTypeCheck, "unknown event type", ("event_type", "dc_managed_agents_v2")),
    ];

    /// <summary>Neighbouring writes each CHECK accepts, at least one per member.</summary>
    public static readonly CheckCase[] Accepted =
    [
        // The edge of #1: an empty array passes, and so does any other.
        Insert(CheckConstraint.ApiKeysAllowListNotEmpty, "empty allow list", ("allow_list", "{}")),
        Insert(CheckConstraint.ApiKeysAllowListNotEmpty, "one entry", ("allow_list", "{*}")),
        Insert(CheckConstraint.ChatModelConfigsCompressionThresholdCheck, "threshold 100", ("compression_threshold", "100")),
        Insert(CheckConstraint.ChatModelConfigsCompressionThresholdCheck, "threshold 0", ("compression_threshold", "0")),
        Insert(CheckConstraint.ChatModelConfigsContextLimitCheck, "context limit 1", ("context_limit", "1")),
        Insert(CheckConstraint.ChatProvidersProviderCheck, "openai-compat", ("provider", "openai-compat")),
        Run(CheckConstraint.ChatUsageLimitConfigDefaultLimitMicrosCheck, "zero default limit", "UPDATE chat_usage_limit_config SET default_limit_micros = 0"),
        Run(CheckConstraint.ChatUsageLimitConfigPeriodCheck, "daily period", "UPDATE chat_usage_limit_config SET period = 'day'"),
        Run(CheckConstraint.ChatUsageLimitConfigSingletonCheck, "the one row again", "DELETE FROM chat_usage_limit_config; INSERT INTO chat_usage_limit_config DEFAULT VALUES"),
        Insert(CheckConstraint.OrganizationIdNotZero, "organization-scoped role", ("organization_id", "6f9619ff-8b86-d011-b42d-00c04fc964ff")),
        // The edge of #8: NULL <> zero is NULL, not FALSE.
        Insert(CheckConstraint.OrganizationIdNotZero, "site-wide role", ("organization_id", null)),
        Insert(CheckConstraint.GroupsChatSpendLimitMicrosCheck, "no spend limit", ("chat_spend_limit_micros", null)),
        Insert(CheckConstraint.GroupsChatSpendLimitMicrosCheck, "spend limit 1", ("chat_spend_limit_micros", "1")),
        Insert(CheckConstraint.OneTimePasscodeSet, "passcode with expiry", ("hashed_one_time_passcode", "\\x01"), ("one_time_passcode_expires_at", "2026-03-20 08:00:00+00")),
        Insert(CheckConstraint.UsersChatSpendLimitMicrosCheck, "spend limit 1", ("chat_spend_limit_micros", "1")),
        Insert(CheckConstraint.UsersEmailNotEmpty, "service account without e-mail", ("is_service_account", "true"), ("login_type", "none"), ("email", "")),
        Insert(CheckConstraint.UsersServiceAccountLoginType, "person with login type none", ("login_type", "none")),
        Insert(CheckConstraint.UsersUsernameMinLength, "one-character username", ("username", "a")),
        Insert(CheckConstraint.McpServerConfigsAuthTypeCheck, "custom headers", ("auth_type", "custom_headers")),
        Insert(CheckConstraint.McpServerConfigsAvailabilityCheck, "forced on", ("availability", "force_on")),
        Insert(CheckConstraint.McpServerConfigsTransportCheck, "server-sent events", ("transport", "sse")),
        Insert(CheckConstraint.MaxProvisionerLogsLength, "exactly 1 MiB", ("logs_length", "1048576")),
        Insert(CheckConstraint.MaxLogsLength, "exactly 1 MiB", ("logs_length", "1048576")),
        Insert(CheckConstraint.SubsystemsNotNone, "real subsystems", ("subsystems", "{envbox,exectrace}")),
        // The edges of #20: NULL and the empty array.
        Insert(CheckConstraint.SubsystemsNotNone, "no subsystems (NULL)", ("subsystems", null)),
        Insert(CheckConstraint.SubsystemsNotNone, "no subsystems (empty)", ("subsystems", "{}")),
        Insert(CheckConstraint.WorkspaceBuildsDeadlineBelowMaxDeadline, "deadline equal to max deadline", ("deadline", "2026-03-20 08:00:00+00"), ("max_deadline", "2026-03-20 08:00:00+00")),
        Insert(CheckConstraint.WorkspaceBuildsDeadlineBelowMaxDeadline, "deadline without max deadline", ("deadline", "2026-03-20 12:00:00+00"), ("max_deadline", "0001-01-01 00:00:00+00")),
        // The edge of #21: both columns default to the zero time.
        Insert(CheckConstraint.WorkspaceBuildsDeadlineBelowMaxDeadline, "both deadlines left at the zero time", ("deadline", RowBuilder.Default), ("max_deadline", RowBuilder.Default)),
        Insert(CheckConstraint.GroupAclIsObject, "group ACL object", ("group_acl", "{\"devs\": [\"read\"]}")),
        Insert(CheckConstraint.UserAclIsObject, "user ACL object", ("user_acl", "{\"alice\": [\"use\"]}")),
        Insert(CheckConstraint.TelemetryLockEventTypeConstraint, "boundary usage summary", ("event_type", "boundary_usage_summary")),
        Insert(CheckConstraint.ValidationMonotonicOrder, "decreasing", ("validation_monotonic", "decreasing")),
        Insert(CheckConstraint.ValidationMonotonicOrder, "no order", ("validation_monotonic", "")),
        Insert(CheckConstraint.UsageEventTypeCheck, "AI seats heartbeat", ("event_type", "hb_ai_seats_v1")),
    ];

    /// <summary>
    /// Unique indexes whose key is computed by a trigger from other columns: the second row must
    /// repeat those. <c>notification_messages.dedupe_hash</c> is set on every insert from the
    /// template, user, method, payload, targets and UTC day of <c>created_at</c> (behavior.md §2.11).
    /// </summary>
    private static readonly Dictionary<string, string[]> ComputedKeyInputs = new(StringComparer.Ordinal)
    {
        ["notification_messages_dedupe_hash_idx"] = ["dedupe_hash", "notification_template_id", "user_id", "method", "payload", "targets", "created_at"],
    };

    /// <summary>
    /// Inserts a valid row of the unique index's table that falls under its predicate, with every
    /// column of its key filled (NULLs never collide), then a second row that repeats its key (for
    /// <c>lower(column)</c> in another letter case, so that only the expression collides), and
    /// returns the error the second insert raised.
    /// </summary>
    public static async Task<PostgresException> DuplicateAsync(RowBuilder builder, string indexName)
    {
        var index = UniqueIndex(builder, indexName);
        var table = builder.Catalog.Table(index.Table);

        // An empty table, so that the first row collides with nothing (chat_usage_limit_config has its seed row).
        await builder.ExecuteAsync($"DELETE FROM {RowBuilder.Qualified(index.Table)}");
        var (pinned, nonEmpty) = Predicate(index.Predicate);
        var filled = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var column in index.Keys.SelectMany(key => ColumnsIn(key, table)).Where(column => !table.Column(column).NotNull).Concat(nonEmpty)) filled[column] = RowBuilder.Fresh;
        foreach (var (column, value) in pinned) filled[column] = value;
        var first = await builder.InsertAsync(index.Table, filled);

        var second = new Dictionary<string, object?>(filled, StringComparer.Ordinal);
        foreach (var key in index.Keys)
        {
            if (table.Columns.Any(c => c.Name == key))
            {
                second[key] = first[key];
            }
            else if (LowerOfColumn().Match(key) is { Success: true } lower)
            {
                second[lower.Groups[1].Value] = first[lower.Groups[1].Value]?.ToUpperInvariant();
            }
            else
            {
                foreach (var column in ColumnsIn(key, table)) second[column] = first[column];
            }
        }

        foreach (var column in ComputedKeyInputs.GetValueOrDefault(index.Name) ?? []) second[column] = first[column];
        return await Rejection.CaptureAsync(() => builder.InsertAsync(index.Table, second), $"a second {index.Table} row repeating the key of {index.Name}");
    }

    /// <summary>
    /// The unique index created before <paramref name="indexName"/> on the same table with the same
    /// key and predicate, if any. PostgreSQL checks a row's unique indexes one by one in creation
    /// order and reports the first one broken, so no write can ever be reported under an index
    /// whose exact twin comes first.
    /// </summary>
    public static SchemaCatalog.UniqueIndex? EarlierTwin(RowBuilder builder, string indexName)
    {
        var index = UniqueIndex(builder, indexName);
        return builder.Catalog.UniqueIndexes
            .Where(other => other.Table == index.Table && other.Name != index.Name && other.Keys.SequenceEqual(index.Keys) && other.Predicate == index.Predicate)
            .Where(other => other.Order < index.Order)
            .MinBy(other => other.Order);
    }

    /// <summary>
    /// The error PostgreSQL 15 sends for a CHECK (23514) or unique (23505) violation of
    /// <paramref name="constraint"/> on <paramref name="table"/>, built with Npgsql's public
    /// constructor: for the constraints no write can be reported under.
    /// </summary>
    public static PostgresException AsTheServerWouldSend(string sqlState, string table, string constraint) => new(
        messageText: sqlState == PostgresErrorCodes.CheckViolation
            ? $"new row for relation \"{table}\" violates check constraint \"{constraint}\""
            : $"duplicate key value violates unique constraint \"{constraint}\"",
        severity: "ERROR",
        invariantSeverity: "ERROR",
        sqlState: sqlState,
        detail: "Failing row contains (...).",
        schemaName: "public",
        tableName: table,
        constraintName: constraint);

    /// <summary>Inserts a row whose foreign key column names a parent that does not exist and returns the error.</summary>
    public static async Task<PostgresException> MissingParentAsync(RowBuilder builder, SchemaCatalog.ForeignKey key)
    {
        var missing = builder.MissingValue(key.Table, builder.Catalog.Table(key.Table).Column(key.Column));
        return await Rejection.CaptureAsync(
            () => builder.InsertAsync(key.Table, new Dictionary<string, object?> { [key.Column] = missing }),
            $"a {key.Table} row whose {key.Column} names no {key.ReferencedTable} row");
    }

    /// <summary>
    /// Inserts a parent row and a child referencing it under <paramref name="key"/>, deletes every
    /// other row that would keep the parent under another RESTRICT or NO ACTION key (inserting a
    /// user, for one, records its status in <c>user_status_changes</c>), and returns the child and
    /// the DELETE of the parent.
    /// </summary>
    public static async Task<(Row Child, string DeleteParent)> ParentWithChildAsync(RowBuilder builder, SchemaCatalog.ForeignKey key)
    {
        var parent = await builder.InsertAsync(key.ReferencedTable, (key.ReferencedColumn, RowBuilder.Fresh));
        var value = RowBuilder.Literal(parent[key.ReferencedColumn], builder.Catalog.Table(key.ReferencedTable).Column(key.ReferencedColumn));
        var child = await builder.InsertAsync(key.Table, new Dictionary<string, object?> { [key.Column] = parent[key.ReferencedColumn] });
        foreach (var other in builder.Catalog.ForeignKeys.Where(k => k.ReferencedTable == key.ReferencedTable && k.Name != key.Name && k.OnDelete is 'a' or 'r'))
        {
            await builder.ExecuteAsync($"DELETE FROM {RowBuilder.Qualified(other.Table)} WHERE {RowBuilder.Quote(other.Column)} = {value}");
        }

        return (child, $"DELETE FROM {RowBuilder.Qualified(key.ReferencedTable)} WHERE {RowBuilder.Quote(key.ReferencedColumn)} = {value}");
    }

    /// <summary>The foreign key called <paramref name="name"/>, from the catalog.</summary>
    public static SchemaCatalog.ForeignKey ForeignKey(RowBuilder builder, string name) =>
        builder.Catalog.ForeignKeys.SingleOrDefault(k => k.Name == name)
            ?? throw new Xunit.Sdk.XunitException($"The migrated schema has no foreign key {name}: no case for it.");

    /// <summary>Asserts the raw fields of a CHECK violation and what the classifier makes of it.</summary>
    public static void AssertCheckViolation(PostgresException error, CheckConstraint member)
    {
        Assert.Equal(
            (PostgresErrorCodes.CheckViolation, member.SqlName(), member.TableName()),
            (error.SqlState, error.ConstraintName, error.TableName));
        Assert.True(error.IsCheckViolation(member), $"IsCheckViolation({member}) was false.");
        Assert.True(error.IsCheckViolation(), "IsCheckViolation() was false.");
        Assert.DoesNotContain(Enum.GetValues<CheckConstraint>(), other => other != member && error.IsCheckViolation(other));
        Assert.False(error.IsUniqueViolation());
        Assert.False(error.IsForeignKeyViolation());
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(
            (ConstraintKind.Check, (CheckConstraint?)member, (UniqueConstraint?)null, (ForeignKeyConstraint?)null, member.SqlName(), member.TableName()),
            (violation.Kind, violation.Check, violation.Unique, violation.ForeignKey, violation.ConstraintName, violation.TableName));
    }

    /// <summary>Asserts the raw fields of a unique violation and what the classifier makes of it.</summary>
    public static void AssertUniqueViolation(PostgresException error, UniqueConstraint member)
    {
        Assert.Equal(
            (PostgresErrorCodes.UniqueViolation, member.SqlName(), member.TableName()),
            (error.SqlState, error.ConstraintName, error.TableName));
        Assert.True(error.IsUniqueViolation(member), $"IsUniqueViolation({member}) was false.");
        Assert.True(error.IsUniqueViolation(), "IsUniqueViolation() was false.");
        Assert.DoesNotContain(Enum.GetValues<UniqueConstraint>(), other => other != member && error.IsUniqueViolation(other));
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsForeignKeyViolation());
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(
            (ConstraintKind.Unique, (CheckConstraint?)null, (UniqueConstraint?)member, (ForeignKeyConstraint?)null, member.SqlName(), member.TableName()),
            (violation.Kind, violation.Check, violation.Unique, violation.ForeignKey, violation.ConstraintName, violation.TableName));
    }

    /// <summary>
    /// Asserts the raw fields of a foreign-key violation and what the classifier makes of it.
    /// <paramref name="sqlState"/> is the SQLSTATE the server must send, which the classification
    /// reports too: 23503, or 23001 (restrict_violation) for a delete an ON DELETE RESTRICT key
    /// blocks on PostgreSQL 18 and later.
    /// </summary>
    public static void AssertForeignKeyViolation(PostgresException error, ForeignKeyConstraint member, string sqlState = PostgresErrorCodes.ForeignKeyViolation)
    {
        Assert.Equal((sqlState, member.SqlName(), member.TableName()), (error.SqlState, error.ConstraintName, error.TableName));
        Assert.True(error.IsForeignKeyViolation(member), $"IsForeignKeyViolation({member}) was false for SQLSTATE {error.SqlState}.");
        Assert.True(error.IsForeignKeyViolation(), "IsForeignKeyViolation() was false.");
        Assert.DoesNotContain(Enum.GetValues<ForeignKeyConstraint>(), other => other != member && error.IsForeignKeyViolation(other));
        Assert.False(error.IsCheckViolation());
        Assert.False(error.IsUniqueViolation());
        Assert.True(error.TryGetConstraintViolation(out var violation));
        Assert.Equal(
            (ConstraintKind.ForeignKey, (CheckConstraint?)null, (UniqueConstraint?)null, (ForeignKeyConstraint?)member, member.SqlName(), member.TableName(), sqlState),
            (violation.Kind, violation.Check, violation.Unique, violation.ForeignKey, violation.ConstraintName, violation.TableName, violation.SqlState));
    }

    /// <summary>
    /// What a partial index's predicate asks of a row: the values it pins
    /// (<c>login_type = 'token'::login_type</c>, <c>is_default = true</c>) and the columns it wants
    /// non-empty (<c>email &lt;&gt; ''::text</c>, where a default of <c>''</c> would miss it).
    /// Other conditions (<c>deleted_at IS NULL</c>) hold for the builder's rows anyway.
    /// </summary>
    private static (Dictionary<string, object?> Pinned, List<string> NonEmpty) Predicate(string? predicate)
    {
        var pinned = new Dictionary<string, object?>(StringComparer.Ordinal);
        var nonEmpty = new List<string>();
        foreach (var condition in predicate?.Split(" AND ", StringSplitOptions.TrimEntries) ?? [])
        {
            if (Equality().Match(condition) is { Success: true } equality) pinned[equality.Groups[1].Value] = new RowBuilder.Sql(equality.Groups[2].Value);
            else if (NotEmpty().Match(condition) is { Success: true } notEmpty) nonEmpty.Add(notEmpty.Groups[1].Value);
        }

        return (pinned, nonEmpty);
    }

    private static SchemaCatalog.UniqueIndex UniqueIndex(RowBuilder builder, string name) =>
        builder.Catalog.UniqueIndexes.SingleOrDefault(i => i.Name == name)
            ?? throw new Xunit.Sdk.XunitException($"The migrated schema has no unique index or constraint {name}: no case for it.");

    /// <summary>The table's columns an index key element reads: the column itself, or those its expression names (string literals aside).</summary>
    private static IEnumerable<string> ColumnsIn(string expression, SchemaCatalog.TableInfo table) =>
        Identifier().Matches(StringLiteral().Replace(expression, ""))
            .Select(m => m.Value)
            .Where(name => table.Columns.Any(c => c.Name == name))
            .Distinct();

    /// <summary>A case inserting a row of the member's table; it counts the rows stored exactly so.</summary>
    private static CheckCase Insert(CheckConstraint member, string scenario, params (string Column, object? Value)[] values) =>
        new(member, scenario, async builder =>
        {
            var row = await builder.InsertAsync(member.TableName(), values.ToDictionary(v => v.Column, v => v.Value));
            return await builder.ScalarAsync<long>($"SELECT count(*) FROM {RowBuilder.Qualified(row.Table)} WHERE {row.WhereSql()}");
        });

    /// <summary>A case running SQL; it counts the rows affected.</summary>
    private static CheckCase Run(CheckConstraint member, string scenario, string sql) =>
        new(member, scenario, async builder => await builder.ExecuteAsync(sql));

    [GeneratedRegex(@"^\(?(\w+) = ('(?:[^']|'')*'::[\w ]+|true|false)\)?$")]
    private static partial Regex Equality();

    [GeneratedRegex(@"^\(?(\w+) <> ''::text\)?$")]
    private static partial Regex NotEmpty();

    [GeneratedRegex(@"^lower\((\w+)(?:::[\w ]+)?\)$")]
    private static partial Regex LowerOfColumn();

    [GeneratedRegex(@"'(?:[^']|'')*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\b[a-z_][a-z0-9_]*\b")]
    private static partial Regex Identifier();
}

/// <summary>
/// One write aimed at a CHECK: the member it is about, what it tries, and how it writes; the write
/// returns how many rows it stored or changed.
/// </summary>
internal sealed record CheckCase(CheckConstraint Constraint, string Scenario, Func<RowBuilder, Task<long>> Write);

using Coderd.Database.Migrations;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The lock settings without a server: the wait between attempts (capped, jittered within bounds,
/// stopping at the budget), the validation of timeouts, and what <c>script</c> shows for a
/// migration with settings of its own.
/// </summary>
public sealed class LockBackoffTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(5);

    private static readonly LockBackoff Steady = LockBackoff.Default with { Jitter = false };

    [Fact]
    public void WaitsDoubleFromTheFirstUpToTheCap()
    {
        var waits = Enumerable.Range(1, 8).Select(retry => Steady.Next(retry, TimeSpan.Zero, Budget, new Random(1))!.Value.TotalMilliseconds);

        Assert.Equal([250, 500, 1000, 2000, 4000, 5000, 5000, 5000], waits);
    }

    [Fact]
    public void JitteredWaitsStayInTheUpperHalfOfTheirCeilingAndVary()
    {
        var random = new Random(12);
        for (var retry = 1; retry <= 12; retry++)
        {
            var ceiling = Steady.Next(retry, TimeSpan.Zero, Budget, random)!.Value;
            var waits = Enumerable.Range(0, 200).Select(_ => LockBackoff.Default.Next(retry, TimeSpan.Zero, Budget, random)!.Value).ToList();

            Assert.All(waits, wait => Assert.InRange(wait, ceiling / 2, ceiling));
            Assert.True(waits.Distinct().Count() > 100, $"Retry {retry}: only {waits.Distinct().Count()} different waits in 200.");
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1_000)]
    [InlineData(int.MaxValue)]
    public void LateRetriesWaitTheCapWithoutOverflowing(int retry)
    {
        Assert.Equal(Steady.Cap, Steady.Next(retry, TimeSpan.Zero, Budget, new Random(1)));
        Assert.InRange(LockBackoff.Default.Next(retry, TimeSpan.Zero, Budget, new Random(1))!.Value, Steady.Cap / 2, Steady.Cap);
    }

    [Fact]
    public void NoRetryStartsOnceTheBudgetIsSpent()
    {
        Assert.Null(LockBackoff.Default.Next(1, Budget, Budget, new Random(1)));
        Assert.Null(LockBackoff.Default.Next(3, Budget + TimeSpan.FromSeconds(1), Budget, new Random(1)));
        Assert.Null(LockBackoff.Default.Next(1, TimeSpan.Zero, TimeSpan.Zero, new Random(1)));
    }

    [Fact]
    public void TheLastWaitIsCutToStartTheRetryWithinTheBudget()
    {
        var left = TimeSpan.FromMilliseconds(40);

        Assert.Equal(left, Steady.Next(6, Budget - left, Budget, new Random(1)));
    }

    [Fact]
    public void ARetryLimitStopsTheScheduleBeforeTheBudget()
    {
        var limited = Steady with { MaxRetries = 3 };

        Assert.NotNull(limited.Next(3, TimeSpan.Zero, Budget, new Random(1)));
        Assert.Null(limited.Next(4, TimeSpan.Zero, Budget, new Random(1)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(-1.0)]
    [InlineData(int.MaxValue + 1.0)]
    public void LockTimeoutPostgresWouldReadAsNoLimitOrCannotTakeIsRefused(double milliseconds)
    {
        var options = new MigratorOptions { ConnectionString = "", LockTimeout = TimeSpan.FromMilliseconds(milliseconds) };

        Assert.Throws<ArgumentOutOfRangeException>(() => new SchemaMigrator(options));
    }

    [Fact]
    public void StatementTimeoutIsZeroForNoneOrAtLeastAMillisecond()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SchemaMigrator(new MigratorOptions { ConnectionString = "", StatementTimeout = TimeSpan.FromMilliseconds(0.5) }));
        var none = new SchemaMigrator(new MigratorOptions { ConnectionString = "", StatementTimeout = TimeSpan.Zero, LockTimeout = TimeSpan.FromMilliseconds(1) });

        Assert.Contains("SET LOCAL statement_timeout = '0s';", none.Script(), StringComparison.Ordinal);
        Assert.Contains("SET LOCAL lock_timeout = '1ms';", none.Script(), StringComparison.Ordinal);
    }

    [Fact]
    public void ScriptShowsAMigrationsOwnLockSettingsAndTheDefaultForTheOthers()
    {
        var migrator = LockSettingsMigrations.Migrator(new MigratorOptions { ConnectionString = "" });

        var script = migrator.Script().Split('\n');

        Assert.Equal(
            "SET LOCAL lock_timeout = '150ms'; -- this migration's own; the default is 500ms; not retried after a lock timeout",
            // After the header: BEGIN, the pinned search path, the migration lock, then the lock timeout.
            script[Array.IndexOf(script, $"-- {LockSettingsMigrations.OwnSettings}: {LockSettingsMigrations.Description}") + 4]);
        var defaults = script.Where(line => line.StartsWith("SET LOCAL lock_timeout", StringComparison.Ordinal)).SkipLast(1).ToList();
        Assert.Equal(MigrationDatabases.History.Count(m => m.Version <= ValidateChatSpendLimits), defaults.Count);
        Assert.All(defaults, line => Assert.Equal("SET LOCAL lock_timeout = '500ms';", line));
    }

    [Fact]
    public void AMigrationDeclaringALockTimeoutUnderAMillisecondIsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MigrationInfo.Of(typeof(TooShortLockTimeout), 2099_01_01_0003, "too short"));

        Assert.Contains(nameof(TooShortLockTimeout), error.Message, StringComparison.Ordinal);
    }

    private sealed class TooShortLockTimeout : SchemaMigration
    {
        protected internal override TimeSpan? LockTimeout => TimeSpan.Zero;

        public override void Up() => Execute.Sql("SELECT 1");

        public override void Down() => Execute.Sql("SELECT 1");
    }
}

/// <summary>
/// The history up to the migration before the MCP one, plus a test migration that alters
/// <c>chats</c> with a lock timeout of its own and no retries. Not a <c>[Migration]</c>: nothing
/// discovers it; tests hand it to the migrator.
/// </summary>
internal static class LockSettingsMigrations
{
    public const long OwnSettings = 2099_01_01_0002;

    public const string Description = "Test only: add chats.lock_probe with a lock timeout of its own and no retries";

    public static readonly TimeSpan OwnLockTimeout = TimeSpan.FromMilliseconds(150);

    public static SchemaMigrator Migrator(MigratorOptions options) => new(options,
        [.. MigrationDatabases.History.Where(m => m.Version <= ValidateChatSpendLimits), MigrationInfo.Of(typeof(AlterChats), OwnSettings, Description)]);

    private sealed class AlterChats : SchemaMigration
    {
        protected internal override TimeSpan? LockTimeout => OwnLockTimeout;

        protected internal override bool RetryOnLockTimeout => false;

        public override void Up() => Alter.Table("chats").AddColumn("lock_probe").AsInt32().Nullable();

        public override void Down() => Delete.Column("lock_probe").FromTable("chats");
    }
}

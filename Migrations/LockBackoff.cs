namespace Coderd.Database.Migrations;

/// <summary>
/// The wait before each new attempt of a migration that hit its lock timeout: doubling from
/// <paramref name="First"/>, capped at <paramref name="Cap"/>, and with <paramref name="Jitter"/>
/// drawn uniformly from the upper half of that ceiling ("equal jitter": never back to back, never
/// longer than the ceiling).
/// </summary>
/// <remarks>
/// Each failed attempt stalls the table's other queries for up to the lock timeout, so the cap
/// bounds how often that can happen when the blocker cannot be waited for directly: with the
/// defaults, at most one stall of half a second every 2.5 to 5 s.
/// </remarks>
/// <param name="First">The ceiling of the first wait.</param>
/// <param name="Cap">The largest ceiling.</param>
/// <param name="Jitter">Whether each wait is drawn from [ceiling / 2, ceiling] rather than being the ceiling.</param>
/// <param name="MaxRetries">A limit on the number of retries besides the budget; null for none.</param>
internal sealed record LockBackoff(TimeSpan First, TimeSpan Cap, bool Jitter = true, int? MaxRetries = null)
{
    public static LockBackoff Default { get; } = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));

    /// <summary>
    /// How long to wait before retry number <paramref name="retry"/> (1 for the first), or null when
    /// no retry may start: <see cref="MaxRetries"/> reached, or <paramref name="elapsed"/> since the
    /// first attempt has used up <paramref name="budget"/>. A wait is cut short so that the retry
    /// still starts within the budget.
    /// </summary>
    public TimeSpan? Next(int retry, TimeSpan elapsed, TimeSpan budget, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (retry > MaxRetries || elapsed >= budget) return null;
        // In doubles, with the exponent bounded: 500 ms << 23 overflowed an int in the old runner.
        var ceiling = Math.Min(Cap.Ticks, First.Ticks * Math.Pow(2, Math.Min(retry - 1, 62)));
        var wait = TimeSpan.FromTicks((long)(Jitter ? ceiling * (0.5 + random.NextDouble() / 2) : ceiling));
        var left = budget - elapsed;
        return wait < left ? wait : left;
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using FluentMigrator;

namespace Coderd.Database.Migrations;

/// <summary>A migration this build knows: its version and description.</summary>
/// <param name="Version">The version, <c>yyyyMMddnnnn</c>; unique and increasing.</param>
/// <param name="Description">What it does, one line.</param>
public sealed record MigrationInfo(long Version, string Description)
{
    private static readonly Lazy<IReadOnlyList<MigrationInfo>> AllOfThisLibrary = new(() => Discover([typeof(MigrationInfo).Assembly]));

    /// <summary>
    /// Every migration of this library, ordered by version: what <see cref="SchemaMigrator"/> runs
    /// with default options. Found without a database.
    /// </summary>
    public static IReadOnlyList<MigrationInfo> All => AllOfThisLibrary.Value;

    internal Type Type { get; init; } = null!;

    /// <summary>The migration's own lock timeout (<see cref="SchemaMigration.LockTimeout"/>); null for the runner's.</summary>
    internal TimeSpan? LockTimeout { get; init; }

    /// <summary>Whether a lock timeout is retried (<see cref="SchemaMigration.RetryOnLockTimeout"/>).</summary>
    internal bool RetryOnLockTimeout { get; init; } = true;

    /// <summary>
    /// The migration class <typeparamref name="TMigration"/> of this library, so that a test naming
    /// one migration says which by its class (<c>MigrationInfo.Of&lt;M2026_03_19_0001_AddMcpServerConfigs&gt;().Version</c>)
    /// rather than by its position in the history. The classes are internal: users name a
    /// migration by its version.
    /// </summary>
    /// <exception cref="ArgumentException"><typeparamref name="TMigration"/> has no <c>[Migration]</c> attribute.</exception>
    internal static MigrationInfo Of<TMigration>()
        where TMigration : SchemaMigration =>
        All.SingleOrDefault(m => m.Type == typeof(TMigration))
        ?? throw new ArgumentException($"{typeof(TMigration).Name} is not a [Migration] of {typeof(MigrationInfo).Assembly.GetName().Name}.", nameof(TMigration));

    internal IReadOnlyList<string> RenderUp() => SqlRenderer.Render(Create(), up: true);

    internal IReadOnlyList<string> RenderDown() => SqlRenderer.Render(Create(), up: false);

    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Migration assemblies are trimmer roots in every trimmed build.")]
    private IMigration Create() => (IMigration)Activator.CreateInstance(Type)!;

    /// <summary>The migration class <paramref name="type"/> under the given version, with its lock settings read.</summary>
    /// <exception cref="InvalidOperationException">It declares a lock timeout under 1 ms or over <see cref="int.MaxValue"/> ms.</exception>
    internal static MigrationInfo Of(Type type, long version, string description)
    {
        var info = new MigrationInfo(version, description) { Type = type };
        if (info.Create() is not SchemaMigration migration) return info;
        if (migration.LockTimeout is { } timeout && !SchemaMigrator.IsValidTimeout(timeout))
        {
            throw new InvalidOperationException(
                $"{type.Name} declares a lock timeout of {timeout.TotalMilliseconds} ms; give it between 1 ms and {int.MaxValue} ms, or null for the runner's.");
        }

        return info with { LockTimeout = migration.LockTimeout, RetryOnLockTimeout = migration.RetryOnLockTimeout };
    }

    /// <summary>Every <c>[Migration]</c> class in the assemblies, ordered by version.</summary>
    /// <remarks>A trimmed (native) build must keep the migration assemblies whole, as coderd-db's does.</remarks>
    /// <exception cref="InvalidOperationException">Two migrations share a version, or one declares an invalid lock timeout.</exception>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Migration assemblies are trimmer roots in every trimmed build.")]
    internal static IReadOnlyList<MigrationInfo> Discover(IEnumerable<Assembly> assemblies)
    {
        var found = assemblies
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && typeof(IMigration).IsAssignableFrom(t))
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<MigrationAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => Of(x.Type, x.Attribute!.Version, x.Attribute.Description ?? ""))
            .OrderBy(m => m.Version)
            .ToList();
        var duplicate = found.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException(
                $"Migrations {string.Join(" and ", duplicate.Select(m => m.Type.Name))} share version {duplicate.Key}; give each its own.");
        }

        return found;
    }
}

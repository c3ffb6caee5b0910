namespace Coderd.Database.Tests.Schema;

/// <summary>
/// A test class whose tests each start on its own migrated database emptied again (the state right
/// after migrating), with a <see cref="RowBuilder"/> on a connection of its own. Derived classes that
/// prepare more override <see cref="InitializeAsync"/> and call this one first.
/// </summary>
public abstract class EmptyDatabaseTest(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    /// <summary>The class's database.</summary>
    internal MigratedDatabase Database { get; } = database;

    /// <summary>The builder of the current test, on its own connection to <see cref="Database"/>.</summary>
    internal RowBuilder Builder { get; private set; } = null!;

    /// <inheritdoc />
    public virtual async ValueTask InitializeAsync()
    {
        await Database.ResetAsync();
        Builder = await RowBuilder.OpenAsync(Database);
    }

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        await Builder.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

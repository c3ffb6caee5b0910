using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Generator;

/// <summary>
/// Regenerates the typed constraint enums (<c>Constraints/Generated/*.g.cs</c>), the schema
/// snapshot <c>verify</c> compares with (<c>Migrations/schema-snapshot.json</c>) and
/// <c>schema-dump.sql</c> from a freshly migrated scratch database: what
/// <c>dotnet run --project tools/Generator</c> runs.
/// </summary>
internal static class ConstraintGenerator
{
    /// <summary>The command that regenerates every generated file.</summary>
    public const string Command = ConstraintFileRenderer.Command;

    /// <summary>The snapshot of the migrated schema, relative to the repository root; embedded in the Migrations assembly.</summary>
    public const string SnapshotFile = "Migrations/schema-snapshot.json";

    /// <summary>The file that marks the repository root.</summary>
    public const string SolutionFile = "Coderd.Database.slnx";

    /// <summary>The nearest folder at or above <paramref name="startFolder"/> holding <see cref="SolutionFile"/>; null when none does.</summary>
    public static string? FindRepositoryRoot(string startFolder) =>
        Path.GetDirectoryName(SchemaDump.FindUpwards(SolutionFile, startFolder));

    /// <summary>
    /// Creates a scratch database on the same server the tests would use (<c>TEST_DATABASE_URL</c>,
    /// else a container, else a throwaway local cluster), migrates it to the latest version, and
    /// rewrites each generated file whose bytes differ. Running it twice changes nothing.
    /// </summary>
    /// <param name="repositoryRoot">The folder holding <c>Coderd.Database.slnx</c>.</param>
    /// <param name="log">Progress: the server chosen, the migrations, the files written.</param>
    /// <param name="cancellationToken">Stops the run; files already written stay written, each one whole.</param>
    /// <returns>The files written, relative to <paramref name="repositoryRoot"/> with '/' separators; empty when all were up to date.</returns>
    /// <exception cref="ArgumentException"><paramref name="repositoryRoot"/> holds no <c>Coderd.Database.slnx</c>.</exception>
    public static async Task<IReadOnlyList<string>> RunAsync(string repositoryRoot, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repositoryRoot);
        ArgumentNullException.ThrowIfNull(log);
        if (!File.Exists(Path.Combine(repositoryRoot, SolutionFile)))
        {
            throw new ArgumentException(
                $"'{repositoryRoot}' is not the repository root (it has no {SolutionFile}); run from the root or pass it.", nameof(repositoryRoot));
        }

        // Disposing drops the database (TEST_DATABASE_URL) or stops the container or cluster with it.
        await using var server = await ScratchServer.StartAsync(log, cancellationToken);
        var connectionString = await server.CreateDatabaseAsync("coderd_gen", cancellationToken: cancellationToken);
        var changed = new List<string>(await WriteEnumsAsync(connectionString, repositoryRoot, log, cancellationToken));
        var snapshot = await SchemaSnapshot.ReadAsync(connectionString, cancellationToken);
        if (await GeneratedFiles.WriteIfChangedAsync(Path.Combine(repositoryRoot, SnapshotFile), RenderSnapshot(snapshot), cancellationToken))
        {
            changed.Add(SnapshotFile);
        }

        var dump = await server.DumpAsync(connectionString, Command, cancellationToken);
        if (await GeneratedFiles.WriteIfChangedAsync(Path.Combine(repositoryRoot, SchemaDump.FileName), dump, cancellationToken))
        {
            changed.Add(SchemaDump.FileName);
        }

        await log.WriteLineAsync(changed.Count == 0 ? "Generated files are up to date." : $"Wrote {string.Join(", ", changed)}.");
        return changed;
    }

    /// <summary>Migrates the (empty) database, reads its catalog and writes the enum files under <paramref name="repositoryRoot"/>.</summary>
    /// <returns>The enum files written, relative to <paramref name="repositoryRoot"/> with '/' separators.</returns>
    internal static async Task<IReadOnlyList<string>> WriteEnumsAsync(
        string connectionString, string repositoryRoot, TextWriter log, CancellationToken cancellationToken)
    {
        await new SchemaMigrator(new MigratorOptions { ConnectionString = connectionString, Log = log }).UpAsync(cancellationToken: cancellationToken);
        var changed = new List<string>();
        foreach (var (relativePath, text) in await RenderAsync(connectionString, repositoryRoot, cancellationToken))
        {
            if (await GeneratedFiles.WriteIfChangedAsync(Path.Combine(repositoryRoot, relativePath), text, cancellationToken))
            {
                changed.Add(relativePath);
            }
        }

        return changed;
    }

    /// <summary>The text of <see cref="SnapshotFile"/> for the snapshot of a migrated database.</summary>
    internal static string RenderSnapshot(SchemaSnapshot snapshot) =>
        snapshot.ToJson($"<auto-generated/> by `{Command}` from the migrations; do not edit. The schema a database at the newest version has: what `coderd-db verify` compares with.");

    /// <summary>
    /// The enum files for an already migrated database, numbered by the manifest under
    /// <paramref name="repositoryRoot"/>, and that manifest extended; keyed by path relative to the
    /// repository root.
    /// </summary>
    internal static async Task<IReadOnlyDictionary<string, string>> RenderAsync(
        string connectionString, string repositoryRoot, CancellationToken cancellationToken)
    {
        var manifest = Path.Combine(repositoryRoot, ConstraintNumbers.File);
        var numbers = File.Exists(manifest) ? await File.ReadAllTextAsync(manifest, cancellationToken) : null;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return ConstraintFileRenderer.Render(await CatalogQuery.ReadAsync(connection, cancellationToken), numbers);
    }
}

using Coderd.Database.Migrations;
using Npgsql;

namespace Coderd.Database.Generator;

/// <summary>
/// Regenerates the typed constraint enums (<c>Constraints/Generated/*.g.cs</c>) and
/// <c>schema-dump.sql</c> from a freshly migrated scratch database: what
/// <c>dotnet run --project tools/Cli -- gen</c> runs.
/// </summary>
public static class ConstraintGenerator
{
    /// <summary>The command that regenerates every generated file.</summary>
    public const string Command = ConstraintFileRenderer.Command;

    /// <summary>Migrates the (empty) database, reads its catalog and writes the enum files under <paramref name="repositoryRoot"/>.</summary>
    /// <returns>The enum files written, relative to <paramref name="repositoryRoot"/> with '/' separators.</returns>
    internal static async Task<IReadOnlyList<string>> WriteEnumsAsync(
        string connectionString, string repositoryRoot, TextWriter log, CancellationToken cancellationToken)
    {
        await new SchemaMigrator(new MigratorOptions { ConnectionString = connectionString, Log = log }).UpAsync(cancellationToken: cancellationToken);

        IReadOnlyList<CatalogConstraint> rows;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            rows = await CatalogQuery.ReadAsync(connection, cancellationToken);
        }

        var changed = new List<string>();
        foreach (var (relativePath, text) in ConstraintFileRenderer.Render(rows))
        {
            if (await GeneratedFiles.WriteIfChangedAsync(Path.Combine(repositoryRoot, relativePath), text, cancellationToken))
            {
                changed.Add(relativePath);
            }
        }

        return changed;
    }
}

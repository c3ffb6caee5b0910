using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.Loader;
using Coderd.Database.Migrations;

namespace Coderd.Database.Cli;

/// <summary>The options every verb shares.</summary>
internal sealed record Settings
{
    public string? Connection { get; init; }

    public string? DataDirectory { get; init; }

    public TimeSpan LockWait { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan LockTimeout { get; init; } = new MigratorOptions { ConnectionString = "" }.LockTimeout;

    public TimeSpan LockRetryBudget { get; init; } = new MigratorOptions { ConnectionString = "" }.LockRetryBudget;

    public TimeSpan StatementTimeout { get; init; } = TimeSpan.FromSeconds(600);

    public bool Verbose { get; init; }

    /// <summary><c>up --allow-newer</c>: see <see cref="MigratorOptions.AllowNewer"/>.</summary>
    public bool AllowNewer { get; init; }

    /// <summary>Assemblies with more migrations, for tests (the hidden <c>--extra-migrations</c>).</summary>
    public IReadOnlyList<string> ExtraMigrations { get; init; } = [];

    public MigratorOptions ToMigratorOptions(string connectionString, TextWriter log) => new()
    {
        ConnectionString = connectionString,
        LockWait = LockWait,
        LockTimeout = LockTimeout,
        StatementTimeout = StatementTimeout,
        LockRetryBudget = LockRetryBudget,
        AllowNewer = AllowNewer,
        Log = log,
        Assemblies = [typeof(SchemaMigrator).Assembly, .. ExtraMigrations.Select(Load)],
    };

    // Test-only (--extra-migrations); a native build cannot load assemblies and says so below.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only the JIT build loads extra migration assemblies.")]
    private static Assembly Load(string path)
    {
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            throw new CliException(Exit.Usage, "--extra-migrations needs the JIT build of coderd-db (dotnet coderd-db.dll); a native build cannot load assemblies.");
        }

        try
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.GetFullPath(path));
        }
        catch (Exception e) when (e is IOException or BadImageFormatException)
        {
            throw new CliException(Exit.Usage, $"--extra-migrations: cannot load {path} ({e.Message.TrimEnd('.')}); pass the path of a built migrations assembly.", e);
        }
    }
}

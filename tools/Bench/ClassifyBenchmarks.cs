using BenchmarkDotNet.Attributes;
using Coderd.Database.Constraints;
using Npgsql;

namespace Coderd.Database.Bench;

/// <summary>
/// Classifying one CHECK violation, as a catch site would: the floor is the inline test a
/// developer would write by hand; the naive baseline turns the SQL name into the enum by parsing.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner class from it.</remarks>
[MemoryDiagnoser]
public class ClassifyBenchmarks
{
    private Exception _error = null!;

    /// <summary>Obtains the violation once per run.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine("// " + ViolationSource.Describe());
        _error = ViolationSource.Get();
    }

    /// <summary>The least any check can cost: a type test and two ordinal string comparisons.</summary>
    [Benchmark(Baseline = true)]
    public bool Floor() =>
        _error is PostgresException { SqlState: "23514" } p && p.ConstraintName == "mcp_server_configs_transport_check";

    /// <summary>The API a catch site uses.</summary>
    [Benchmark]
    public bool IsCheckViolation() => _error.IsCheckViolation(CheckConstraint.McpServerConfigsTransportCheck);

    /// <summary>Full classification, which allocates its result.</summary>
    [Benchmark]
    public CheckConstraint? TryGetConstraintViolation() =>
        _error.TryGetConstraintViolation(out var violation) ? violation.Check : null;

    /// <summary>What one might write without generated lookups: PascalCase the name, then Enum.Parse.</summary>
    [Benchmark]
    public bool NaiveEnumParse() =>
        _error is PostgresException { SqlState: "23514", ConstraintName: { } name }
        && Enum.Parse<CheckConstraint>(string.Concat(name.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant())))
            == CheckConstraint.McpServerConfigsTransportCheck;
}

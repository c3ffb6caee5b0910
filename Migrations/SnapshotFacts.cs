using System.Text.Json.Serialization;

namespace Coderd.Database.Migrations;

// The facts of a SchemaSnapshot, in the shape and member order of coderd-schema.json. Absent
// optional facts are null and left out of the JSON.

/// <summary>A whole snapshot; every list sorted by name (ordinal), columns and labels in their own order.</summary>
internal sealed record SnapshotFacts(
    IReadOnlyList<TypeFact> Types,
    IReadOnlyList<SequenceFact> Sequences,
    IReadOnlyList<TableFact> Tables,
    IReadOnlyList<ViewFact> Views,
    IReadOnlyList<FunctionFact> Functions)
{
    /// <summary>What the file is and where it came from; not a fact, never compared.</summary>
    [JsonPropertyOrder(-1)]
    public string? About { get; init; }
}

/// <summary>
/// A type of the schema. <see cref="Kind"/> is <c>enum</c> (with <see cref="Labels"/>),
/// <c>composite</c> (with <see cref="Fields"/>), <c>domain</c> (with <see cref="Base"/>), or
/// <c>range</c>, <c>base</c> or <c>pseudo</c> for kinds the specification has none of.
/// </summary>
internal sealed record TypeFact(
    string Name,
    string Kind,
    IReadOnlyList<string>? Labels = null,
    IReadOnlyList<NameAndType>? Fields = null,
    string? Base = null);

/// <summary>A sequence; <see cref="OwnedBy"/> is <c>table.column</c>, null when no column owns it.</summary>
internal sealed record SequenceFact(string Name, string Type, long Start, long Increment, string? OwnedBy = null);

/// <summary>A table with its columns in order and its constraints, indexes and triggers by name.</summary>
internal sealed record TableFact(
    string Name,
    IReadOnlyList<ColumnFact> Columns,
    IReadOnlyList<ConstraintFact> Constraints,
    IReadOnlyList<DefinitionFact> Indexes,
    IReadOnlyList<DefinitionFact> Triggers);

/// <summary>A column: <c>format_type</c> text, NOT NULL, default or generation expression (<c>pg_get_expr</c>).</summary>
internal sealed record ColumnFact(string Name, string Type, bool NotNull, string? Default = null, string? Generated = null);

/// <summary>A table constraint: type letter (p, u, f, c, x) and <c>pg_get_constraintdef</c> text.</summary>
internal sealed record ConstraintFact(string Name, string Type, string Def);

/// <summary>An index (<c>pg_get_indexdef</c>) or trigger (<c>pg_get_triggerdef</c>) with its text, schema prefix removed.</summary>
internal sealed record DefinitionFact(string Name, string Def);

/// <summary>A view (kind <c>v</c>) or materialized view (kind <c>m</c>) with its columns in order.</summary>
internal sealed record ViewFact(string Name, string Kind, IReadOnlyList<NameAndType> Columns);

/// <summary>
/// A function's signature: arguments and result as <c>pg_get_function_arguments</c> and
/// <c>pg_get_function_result</c> render them (the result is null for a procedure), its language and
/// its volatility letter (i, s, v).
/// </summary>
internal sealed record FunctionFact(string Name, string Args, string? Result, string Language, string Volatility);

/// <summary>A name and a type, written as the two-element array <c>["id", "uuid"]</c>.</summary>
internal readonly record struct NameAndType(string Name, string Type);

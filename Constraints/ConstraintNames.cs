namespace Coderd.Database.Constraints;

/// <summary>
/// Converts between the generated enum members and the SQL names the database reports:
/// <c>SqlName()</c> and <c>TableName()</c> on a member of <see cref="CheckConstraint"/>,
/// <see cref="UniqueConstraint"/> or <see cref="ForeignKeyConstraint"/>, and back with
/// <c>TryParseCheck</c>, <c>TryParseUnique</c> and <c>TryParseForeignKey</c>. Allocates nothing.
/// </summary>
/// <remarks>
/// The members live in the generated files beside each enum (<c>Generated/*.g.cs</c>). To persist a
/// constraint, store its <c>SqlName()</c>: it is what the schema and every error message use.
/// </remarks>
public static partial class ConstraintNames;

using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Asserts on an error raised by one of the schema's functions: coderd matches these on SQLSTATE
/// and message text, so both are exact, and such an error names no constraint, table, column,
/// schema or type and carries no detail or hint.
/// </summary>
internal static class Raised
{
    public static async Task<PostgresException> AssertAsync(Func<Task> statement, string sqlState, string message)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(statement);
        Assert.Equal((sqlState, message), (error.SqlState, error.MessageText));
        Assert.All(
            [error.ConstraintName, error.TableName, error.ColumnName, error.SchemaName, error.DataTypeName, error.Detail, error.Hint],
            Assert.Null);
        return error;
    }
}

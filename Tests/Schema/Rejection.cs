using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>Asserts on the structured fields of a server error, never on its message text.</summary>
internal static class Rejection
{
    /// <summary>
    /// Runs <paramref name="statement"/>, expects it to fail with <paramref name="sqlState"/>, and
    /// checks that the error names exactly <paramref name="constraint"/> on <paramref name="table"/>.
    /// </summary>
    public static async Task<PostgresException> AssertAsync(Func<Task> statement, string sqlState, string constraint, string table)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(statement);
        Assert.Equal(
            (sqlState, constraint, table),
            (error.SqlState, error.ConstraintName, error.TableName));
        return error;
    }
}

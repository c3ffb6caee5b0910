using Npgsql;

namespace Coderd.Database.Tests.Schema;

/// <summary>A write the server must refuse, and assertions on the structured fields of its error, never on its message text.</summary>
internal static class Rejection
{
    /// <summary>Runs <paramref name="write"/>, which must fail, and returns the server's error.</summary>
    /// <param name="write">The write.</param>
    /// <param name="what">What the write is, for the failure message when the server accepts it.</param>
    public static async Task<PostgresException> CaptureAsync(Func<Task> write, string what)
    {
        try
        {
            await write();
        }
        catch (PostgresException e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException($"The server accepted {what}.");
    }

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

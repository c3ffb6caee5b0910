using Coderd.Database.Generator;

namespace Coderd.Database.Tests.Constraints;

/// <summary>The append-only manifest of enum member numbers, on fixed input. No server.</summary>
public sealed class ConstraintNumbersTests
{
    private static readonly ConstraintNumber[] Manifest =
    [
        new("CheckConstraint", 0, "b_check", Removed: false),
        new("CheckConstraint", 1, "d_check", Removed: false),
        new("CheckConstraint", 2, "c_check", Removed: true),
        new("UniqueConstraint", 0, "a_key", Removed: false),
    ];

    [Fact]
    public void NewNamesTakeTheNextNumbersInNameOrderAndKnownNamesKeepTheirs()
    {
        var entries = ConstraintNumbers.Assign(Manifest, "CheckConstraint", ["e_check", "b_check", "a_check", "d_check"]);

        Assert.Equal(
        [
            new("CheckConstraint", 0, "b_check", false),
            new("CheckConstraint", 1, "d_check", false),
            new("CheckConstraint", 2, "c_check", true),
            new("CheckConstraint", 3, "a_check", false),
            new("CheckConstraint", 4, "e_check", false),
        ], entries);
    }

    [Fact]
    public void DroppedNameStaysMarkedRemovedAndItsNumberIsNotReused()
    {
        var once = ConstraintNumbers.Assign(Manifest, "CheckConstraint", ["d_check", "z_check"]);
        var twice = ConstraintNumbers.Assign(once, "CheckConstraint", ["d_check", "z_check"]);

        Assert.Contains(new ConstraintNumber("CheckConstraint", 0, "b_check", true), once);
        Assert.Contains(new ConstraintNumber("CheckConstraint", 3, "z_check", false), once);
        Assert.Equal(once, twice);
    }

    [Fact]
    public void RemovedNameThatComesBackGetsItsOldNumber()
    {
        var entries = ConstraintNumbers.Assign(Manifest, "CheckConstraint", ["b_check", "c_check", "d_check"]);

        Assert.Contains(new ConstraintNumber("CheckConstraint", 2, "c_check", false), entries);
        Assert.Equal(3, entries.Count);
    }

    [Fact]
    public void EnumsAreNumberedApart()
    {
        var entries = ConstraintNumbers.Assign(Manifest, "ForeignKeyConstraint", ["b_fkey", "a_fkey"]);

        Assert.Equal([new("ForeignKeyConstraint", 0, "a_fkey", false), new("ForeignKeyConstraint", 1, "b_fkey", false)], entries);
    }

    [Fact]
    public void RenderedManifestParsesBackToTheSameEntries()
    {
        var text = ConstraintNumbers.Render(Manifest.Reverse());

        Assert.Equal(Manifest, ConstraintNumbers.Parse(text));
        Assert.Equal(text, ConstraintNumbers.Render(ConstraintNumbers.Parse(text)));
        Assert.EndsWith("CheckConstraint\t2\tc_check\tremoved\nUniqueConstraint\t0\ta_key\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void NoManifestYetIsEmpty()
    {
        Assert.Empty(ConstraintNumbers.Parse(null));
        Assert.Empty(ConstraintNumbers.Parse(""));
    }

    [Theory]
    [InlineData("CheckConstraint\t0\ta_check\nCheckConstraint\t1\ta_check\n", "lists 'a_check' twice")]
    [InlineData("CheckConstraint\t0\ta_check\nCheckConstraint\t0\tb_check\tremoved\n", "gives the number 0 to both 'a_check' and 'b_check'")]
    [InlineData("CheckConstraint\t-1\ta_check\n", "line 1 is not")]
    [InlineData("CheckConstraint\t0\ta_check\nCheckConstraint\t2\tb_check\n", "CheckConstraint skips a number between 0 and 2")]
    [InlineData("# comment\nCheckConstraint\t0\ta_check\tgone\n", "line 2 is not")]
    [InlineData("CheckConstraint 0 a_check\n", "line 1 is not")]
    public void BrokenManifestIsRefusedNamingTheProblem(string text, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ConstraintNumbers.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(ConstraintNumbers.File, error.Message, StringComparison.Ordinal);
    }
}

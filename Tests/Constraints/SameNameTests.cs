using Coderd.Database.Constraints;

namespace Coderd.Database.Tests.Constraints;

/// <summary>The vectorized name comparison behind the <c>Is*Violation</c> methods agrees with ordinal equality.</summary>
public sealed class SameNameTests
{
    [Fact]
    public void AgreesWithOrdinalEqualityForEveryLengthAndDifferingPosition()
    {
        // Lengths on both sides of every vector width (8, 16, 32 chars) and past two blocks of the widest.
        for (var length = 0; length <= 80; length++)
        {
            var name = new string('a', length);
            Assert.True(ConstraintErrors.SameName(name, new string('a', length)), $"length {length}");
            Assert.False(ConstraintErrors.SameName(name, new string('a', length + 1)), $"length {length} vs {length + 1}");
            for (var position = 0; position < length; position++)
            {
                var other = string.Create(length, position, (span, p) => { span.Fill('a'); span[p] = 'b'; });
                Assert.False(ConstraintErrors.SameName(name, other), $"length {length}, difference at {position}");
            }
        }
    }

    [Fact]
    public void NullCandidateIsNoMatch()
    {
        Assert.False(ConstraintErrors.SameName("", null));
        Assert.False(ConstraintErrors.SameName("mcp_server_configs_slug_key", null));
    }
}

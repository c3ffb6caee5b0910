using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Coderd.Database.Migrations;
using FluentMigrator;

namespace Coderd.Database.UnitTests.Migrations;

/// <summary>The house rules for migration classes (STYLE.md, Migrations), checked by reflection.</summary>
public sealed partial class MigrationConventionTests
{
    private static readonly Type[] MigrationTypes = typeof(SchemaMigrator).Assembly.GetTypes()
        .Where(t => typeof(IMigration).IsAssignableFrom(t) && !t.IsAbstract)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToArray();

    public static TheoryData<string> MigrationNames => new(MigrationTypes.Select(t => t.Name));

    [Fact]
    public void VersionsAreUnique()
    {
        var versions = MigrationTypes.Select(t => Attribute(t).Version).ToList();

        Assert.Equal(versions.Count, versions.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(MigrationNames))]
    public void ClassNameIsMPlusVersionWithUnderscoresPlusName(string name)
    {
        var attribute = Attribute(MigrationTypes.Single(t => t.Name == name));

        var match = ClassName().Match(name);

        Assert.True(match.Success, $"{name} does not read M<yyyy>_<MM>_<dd>_<nnnn>_<PascalCaseName>");
        Assert.Equal(attribute.Version.ToString(CultureInfo.InvariantCulture),
            match.Groups["year"].Value + match.Groups["month"].Value + match.Groups["day"].Value + match.Groups["serial"].Value);
        Assert.True(
            DateOnly.TryParseExact(match.Groups["year"].Value + match.Groups["month"].Value + match.Groups["day"].Value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
            $"{name} does not start with a real date");
    }

    [Theory]
    [MemberData(nameof(MigrationNames))]
    public void DescriptionIsNotEmpty(string name)
    {
        var attribute = Attribute(MigrationTypes.Single(t => t.Name == name));

        Assert.False(string.IsNullOrWhiteSpace(attribute.Description), $"{name} has no description");
    }

    [Theory]
    [MemberData(nameof(MigrationNames))]
    public void MigrationIsInternalSealedSchemaMigrationInVersionsNamespace(string name)
    {
        var type = MigrationTypes.Single(t => t.Name == name);

        Assert.Equal(
            (true, true, true, "Coderd.Database.Migrations.Versions"),
            (type.IsNotPublic, type.IsSealed, type.IsSubclassOf(typeof(SchemaMigration)), type.Namespace));
    }

    [Fact]
    public void MigratorRunsEveryMigrationClassInVersionOrder()
    {
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = "Host=127.0.0.1" });

        Assert.Equal(
            MigrationTypes.Select(t => Attribute(t).Version).Order(),
            MigrationInfo.All.Select(m => m.Version));
        Assert.Equal(MigrationInfo.All, migrator.Migrations);
        Assert.Equal(MigrationInfo.All[^1].Version, migrator.LatestVersion);
    }

    private static MigrationAttribute Attribute(Type type) =>
        type.GetCustomAttribute<MigrationAttribute>() ?? throw new InvalidOperationException($"{type.Name} has no [Migration] attribute.");

    [GeneratedRegex("^M(?<year>[0-9]{4})_(?<month>[0-9]{2})_(?<day>[0-9]{2})_(?<serial>[0-9]{4})_[A-Z][A-Za-z0-9]*$")]
    private static partial Regex ClassName();
}

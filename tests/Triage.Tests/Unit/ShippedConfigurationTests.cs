using Triage.Platform.Configuration;

namespace Triage.Tests.Unit;

/// <summary>The configuration files the repository ships must load as they are.</summary>
public sealed class ShippedConfigurationTests
{
    [Theory]
    [InlineData("deploy/triage.yaml")]
    [InlineData("triage.example.yaml")]
    public void A_shipped_configuration_loads_with_only_its_documented_variables(string file)
    {
        var documented = new Dictionary<string, string?> { ["ANTHROPIC_API_KEY"] = "sk-ant-x", ["OPENAI_API_KEY"] = "sk-x" };

        var options = TriageConfiguration.Load(Path.Combine(RepositoryRoot(), file), environment: documented);

        Assert.NotEmpty(options.Routing);
        Assert.All(options.Routing.Values, route => Assert.All(route.Providers, p => Assert.True(options.Providers.ContainsKey(p))));
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Triage.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Triage.sln not found above " + AppContext.BaseDirectory);
    }
}

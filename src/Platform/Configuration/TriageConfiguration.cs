using Microsoft.Extensions.Configuration;

namespace Triage.Platform.Configuration;

/// <summary>
/// Loads triage.yaml, lets environment variables (TRIAGE_SECTION__KEY) override it, applies the embedded
/// defaults and validates the result. The one place a <see cref="TriageOptions"/> comes from.
/// </summary>
public static class TriageConfiguration
{
    public const string EnvironmentPrefix = "TRIAGE_";
    public const string DefaultFileName = "triage.yaml";
    public const string BuiltinProvider = "builtin";

    /// <summary>The file to read: the one named, else TRIAGE_CONFIG, else ./triage.yaml when it exists, else none.</summary>
    public static string? Locate(string? named)
    {
        if (!string.IsNullOrWhiteSpace(named))
        {
            return Path.GetFullPath(named);
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("TRIAGE_CONFIG");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        return File.Exists(DefaultFileName) ? Path.GetFullPath(DefaultFileName) : null;
    }

    /// <summary>Reads and validates; throws <see cref="ConfigurationException"/> listing every problem with its place.</summary>
    public static TriageOptions Load(string? path, IDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        YamlConfigurationFile? file = null;
        if (path is not null)
        {
            file = YamlConfigurationFile.Load(path, Environment.GetEnvironmentVariable);
            builder.AddInMemoryCollection(file.Values);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        var root = builder.Build();
        var options = new TriageOptions();
        try
        {
            root.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // The binder says which key failed to convert ("Failed to convert configuration value at 'providers:x:weight'").
            var key = e.Message.Split('\'').Skip(3).FirstOrDefault() ?? string.Empty;
            throw new ConfigurationException([Locate(file, key, e.InnerException?.Message ?? e.Message)]);
        }

        if (path is not null)
        {
            options.BaseDirectory = Path.GetDirectoryName(path)!;
        }

        ApplyDefaults(options);
        var errors = TriageOptionsValidator.Validate(options, file?.Values.Keys);
        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors.Select(e => Locate(file, e.Key.Replace('.', ':'), e.Message)).ToList());
        }

        return options;
    }

    /// <summary>
    /// With nothing configured the gateway still triages: the offline built-in triager serves a default route.
    /// Without a routing section, the default route uses every configured provider, the built-in one last.
    /// </summary>
    private static void ApplyDefaults(TriageOptions options)
    {
        if (options.Providers.Count == 0)
        {
            options.Providers[BuiltinProvider] = new ProviderOptions { Type = ProviderType.Builtin };
        }

        if (options.Routing.Count == 0)
        {
            options.Routing[TriageOptions.DefaultRoute] = new RouteOptions
            {
                Providers = options.Providers
                    .OrderBy(p => p.Value.Type == ProviderType.Builtin)
                    .ThenBy(p => p.Key, StringComparer.Ordinal)
                    .Select(p => p.Key)
                    .ToList(),
            };
        }
    }

    private static string Locate(YamlConfigurationFile? file, string key, string message)
    {
        var dotted = YamlConfigurationFile.Dotted(key);
        var where = file?.LocationOf(key)
            ?? (key.Length > 0 ? $"{EnvironmentPrefix}{key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()} or defaults" : "configuration");
        return $"{where}: {dotted}: {message}";
    }
}

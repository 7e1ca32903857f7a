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
    /// <param name="path">The YAML file, or null for defaults only.</param>
    /// <param name="overrides">Keys that win over the file and the environment (used by commands such as demo).</param>
    /// <param name="environment">The environment variables; the process's own when null.</param>
    public static TriageOptions Load(
        string? path,
        IDictionary<string, string?>? overrides = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        var builder = new ConfigurationBuilder();
        YamlConfigurationFile? file = null;
        if (path is not null)
        {
            file = YamlConfigurationFile.Load(path, name => environment.GetValueOrDefault(name));
            builder.AddInMemoryCollection(file.Values);
        }

        // TRIAGE_STORE__POSTGRES overrides store.postgres, as .NET's environment configuration does.
        builder.AddInMemoryCollection(environment
            .Where(e => e.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            .Select(e => KeyValuePair.Create(e.Key[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), e.Value)));
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        var root = builder.Build();
        var options = new TriageOptions();
        try
        {
            root.Bind(options);

            // The binder drops a dictionary entry whose value fails to convert, without a word; bound one by
            // one, each entry throws instead, naming the key.
            options.Providers = BindEach<ProviderOptions>(root.GetSection("providers"));
            options.Routing = BindEach<RouteOptions>(root.GetSection("routing"));
        }
        catch (InvalidOperationException e)
        {
            // "Failed to convert configuration value 'lots' at 'providers:x:weight' to type 'System.Int32'."
            // The binder names the property (Capacity); triage.yaml spells the setting in lower case.
            var key = System.Text.RegularExpressions.Regex.Match(e.Message, " at '([^']+)'").Groups[1].Value;
            var setting = key.LastIndexOf(':') + 1;
            key = key[..setting] + key[setting..].ToLowerInvariant();
            var reason = (e.InnerException?.Message ?? e.Message).Replace(" (Parameter 'value')", string.Empty, StringComparison.Ordinal);
            throw new ConfigurationException([Locate(file, key, reason)]);
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

    private static Dictionary<string, T> BindEach<T>(IConfigurationSection section)
        where T : new() =>
        section.GetChildren().ToDictionary(
            child => child.Key,
            child =>
            {
                var value = new T();
                child.Bind(value);
                return value;
            },
            StringComparer.OrdinalIgnoreCase);

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

using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Triage.Platform.Configuration;

/// <summary>
/// triage.yaml flattened to configuration keys, with <c>${VAR}</c> and <c>${VAR:-default}</c> expanded from the
/// environment and the line every key came from, so that a validation error can point at it.
/// </summary>
public sealed partial class YamlConfigurationFile
{
    private YamlConfigurationFile(string path, Dictionary<string, string?> values, Dictionary<string, int> lines)
    {
        Path = path;
        Values = values;
        Lines = lines;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, string?> Values { get; }

    private Dictionary<string, int> Lines { get; }

    /// <summary>
    /// "triage.yaml:12" for a key read from the file. A key the file lacks is placed at its nearest section that
    /// the file has (a missing base_url at its provider); null when nothing of it came from the file.
    /// </summary>
    public string? LocationOf(string key)
    {
        for (var at = key; at.Length > 0; at = ConfigurationPath.GetParentPath(at) ?? string.Empty)
        {
            if (Lines.TryGetValue(at, out var line))
            {
                return $"{Path}:{line}";
            }
        }

        return null;
    }

    /// <summary>Reads and flattens the file; throws <see cref="ConfigurationException"/> naming file, line and key.</summary>
    public static YamlConfigurationFile Load(string path, Func<string, string?> environment)
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException([$"{path}: the configuration file does not exist"]);
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new ConfigurationException([$"{path}:{e.Start.Line}: {e.Message}"]);
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var lines = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<string>();
        if (stream.Documents.Count > 0)
        {
            if (stream.Documents[0].RootNode is YamlMappingNode root)
            {
                Flatten(root, prefix: null);
            }
            else if (stream.Documents[0].RootNode is not YamlScalarNode { Value: null or "" })
            {
                errors.Add($"{path}:{stream.Documents[0].RootNode.Start.Line}: the file must be a mapping of sections (providers, routing, cache, ...)");
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        return new YamlConfigurationFile(path, values, lines);

        void Flatten(YamlNode node, string? prefix)
        {
            switch (node)
            {
                case YamlMappingNode mapping:
                    foreach (var (keyNode, child) in mapping.Children)
                    {
                        var name = ((YamlScalarNode)keyNode).Value ?? string.Empty;
                        var key = prefix is null ? name : ConfigurationPath.Combine(prefix, name);
                        if (lines.ContainsKey(key))
                        {
                            errors.Add($"{path}:{keyNode.Start.Line}: {Dotted(key)}: the key appears twice");
                            continue;
                        }

                        lines[key] = (int)keyNode.Start.Line;
                        Flatten(child, key);
                    }

                    break;
                case YamlSequenceNode sequence:
                    for (var i = 0; i < sequence.Children.Count; i++)
                    {
                        var key = ConfigurationPath.Combine(prefix!, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        lines[key] = (int)sequence.Children[i].Start.Line;
                        Flatten(sequence.Children[i], key);
                    }

                    break;
                case YamlScalarNode scalar when prefix is not null:
                    values[prefix] = Expand(scalar, prefix);
                    break;
            }
        }

        string? Expand(YamlScalarNode scalar, string key)
        {
            if (scalar.Value is null)
            {
                return null;
            }

            // A plain `~` or `null` is YAML's null, not the text "null".
            if (scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null" or "")
            {
                return null;
            }

            return EnvironmentReference().Replace(scalar.Value, match =>
            {
                var variable = match.Groups["name"].Value;
                var value = environment(variable);
                if (!string.IsNullOrEmpty(value))
                {
                    return value;
                }

                if (match.Groups["default"].Success)
                {
                    return match.Groups["default"].Value;
                }

                errors.Add($"{path}:{scalar.Start.Line}: {Dotted(key)}: the environment variable {variable} is not set (write ${{{variable}:-default}} to give a default)");
                return string.Empty;
            });
        }
    }

    /// <summary>Configuration keys use ':'; people read and write them with '.'.</summary>
    public static string Dotted(string key) => key.Replace(ConfigurationPath.KeyDelimiter, ".", StringComparison.Ordinal);

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(:-(?<default>[^}]*))?\}")]
    private static partial Regex EnvironmentReference();
}

/// <summary>The configuration cannot be used; every message names where the problem is.</summary>
public sealed class ConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

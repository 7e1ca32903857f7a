using System.CommandLine;
using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Platform.Configuration;

namespace Triage.Host.Commands;

/// <summary>The <c>triage</c> command line: every command, its options and its help.</summary>
public static class TriageCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Triage: an event-driven gateway that triages failed builds with LLM providers.");
        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(PublishCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ExcerptCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(UsageCommand.Create());
        root.Subcommands.Add(DeadLettersCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        return root;
    }

    internal static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "The triage.yaml to read (default: $TRIAGE_CONFIG, else ./triage.yaml when present, else built-in defaults).",
    };

    private static Command RunCommand()
    {
        var config = ConfigOption();
        var urls = new Option<string>("--urls")
        {
            Description = "Where the HTTP endpoints listen (ingest API, /healthz, /readyz).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TRIAGE_URLS") ?? HostSettings.DefaultUrls,
        };
        var roles = new Option<string>("--roles")
        {
            Description = "Comma-separated roles to host: ingest, router, workers.",
            DefaultValueFactory = _ => "ingest,router,workers",
        };
        var providers = new Option<string?>("--providers")
        {
            Description = "With the workers role: host only these providers' pools (comma-separated names from triage.yaml).",
        };
        var command = new Command("run", "Run the gateway: all roles in one process by default.") { config, urls, roles, providers };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!TryParseRoles(parse.GetValue(roles)!, out var hosted, out var error))
            {
                await Console.Error.WriteLineAsync(error);
                return 2;
            }

            var settings = new HostSettings(hosted, parse.GetValue(urls)!, Split(parse.GetValue(providers)));
            return await HostAsync(parse.GetValue(config), settings, overrides: null, after: null, cancellationToken);
        });
        return command;
    }

    private static Command DemoCommand()
    {
        var config = ConfigOption();
        var urls = new Option<string>("--urls")
        {
            Description = "Where the demo gateway listens.",
            DefaultValueFactory = _ => HostSettings.DefaultUrls,
        };
        var exit = new Option<bool>("--exit")
        {
            Description = "Stop once the samples are triaged instead of serving until Ctrl+C.",
        };
        var command = new Command(
            "demo",
            "Start the embedded gateway (all roles, in-memory bus, SQLite, built-in triager), post the bundled sample failures and print each triage as it completes.")
        {
            config, urls, exit,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var named = parse.GetValue(config);

            // Without a config file, a fresh database per demo: the samples are triaged anew every time.
            var scratch = Path.Combine(Path.GetTempPath(), $"triage-demo-{Environment.ProcessId}.db");
            var overrides = TriageConfiguration.Locate(named) is null
                ? new Dictionary<string, string?> { ["store:sqlite"] = scratch }
                : null;
            var settings = HostSettings.All(parse.GetValue(urls)!);
            try
            {
                return await HostAsync(named, settings, overrides, (app, ct) => Demo.RunAsync(app, parse.GetValue(exit), ct), cancellationToken);
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                foreach (var file in new[] { scratch, scratch + "-wal", scratch + "-shm" })
                {
                    File.Delete(file);
                }
            }
        });
        return command;
    }

    /// <summary>
    /// The configuration at <paramref name="path"/> (or where <see cref="TriageConfiguration.Locate"/> finds one), or
    /// null once the reason it cannot be used is on standard error: the command then exits with 2.
    /// </summary>
    internal static async Task<TriageOptions?> LoadConfigurationAsync(string? path, IDictionary<string, string?>? overrides = null)
    {
        try
        {
            return TriageConfiguration.Load(TriageConfiguration.Locate(path), overrides);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return null;
        }
    }

    /// <summary>Loads the configuration, starts the roles, runs <paramref name="after"/> or serves until stopped.</summary>
    private static async Task<int> HostAsync(
        string? configPath,
        HostSettings settings,
        IDictionary<string, string?>? overrides,
        Func<WebApplication, CancellationToken, Task<int>>? after,
        CancellationToken cancellationToken)
    {
        if (await LoadConfigurationAsync(configPath, overrides) is not { } options)
        {
            return 2;
        }

        await using var app = TriageApplication.Build(options, settings);
        try
        {
            await TriageApplication.StartAsync(app, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"Triage could not start: {e.Message}");
            return 1;
        }

        var code = after is null ? 0 : await after(app, cancellationToken);
        if (after is null || code == Demo.KeepServing)
        {
            await app.WaitForShutdownAsync(cancellationToken);
            code = 0;
        }

        await app.StopAsync(CancellationToken.None);
        return code;
    }

    internal static bool TryParseRoles(string text, out TriageRoles roles, out string error)
    {
        roles = TriageRoles.None;
        error = string.Empty;
        foreach (var name in Split(text))
        {
            if (!Enum.TryParse<TriageRoles>(name, ignoreCase: true, out var role) || role is TriageRoles.None or TriageRoles.All)
            {
                error = $"--roles: '{name}' is not a role; use ingest, router, workers (comma-separated).";
                return false;
            }

            roles |= role;
        }

        if (roles == TriageRoles.None)
        {
            error = "--roles: name at least one of ingest, router, workers.";
            return false;
        }

        return true;
    }

    private static string[] Split(string? list) =>
        (list ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Host.Commands;

/// <summary><c>triage doctor</c>: checks the configuration and reaches every dependency, with a hint for each failure.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var config = TriageCommandLine.ConfigOption();
        var command = new Command("doctor", "Check the configuration and reach the store, the broker and every provider; say what to fix.") { config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = TriageConfiguration.Locate(parse.GetValue(config));
            TriageOptions options;
            try
            {
                options = TriageConfiguration.Load(path);
                Report(true, "configuration", path ?? "none found: built-in defaults (embedded mode)");
            }
            catch (ConfigurationException e)
            {
                Report(false, "configuration", e.Message, "fix the keys named above");
                return 1;
            }

            var checks = new List<Func<Task<bool>>>
            {
                () => StoreAsync(options, cancellationToken),
                () => options.Bus.UsesRabbitMq ? BrokerAsync(options, cancellationToken) : Task.FromResult(Report(true, "bus", "in-memory (embedded mode)")),
            };
            checks.Add(() => VectorCacheAsync(options, cancellationToken));
            checks.AddRange(options.Providers.Select(p => (Func<Task<bool>>)(() => ProviderAsync(p.Key, p.Value, cancellationToken))));
            var results = new List<bool>();
            foreach (var check in checks)
            {
                results.Add(await check());
            }

            var failed = results.Count(ok => !ok);
            Console.WriteLine(failed == 0 ? "All checks passed." : $"{failed} check(s) failed.");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static async Task<bool> StoreAsync(TriageOptions options, CancellationToken cancellationToken)
    {
        var database = TriageDatabase.From(options.Store, options.BaseDirectory, retryOnFailure: false);
        if (database.File is { } file && !File.Exists(file))
        {
            return Report(Directory.Exists(Path.GetDirectoryName(file)), "store", $"{database.Description} does not exist yet; the first start creates it", $"the folder of store.sqlite does not exist");
        }

        try
        {
            await using var db = database.CreateContext();
            if (!await db.Database.CanConnectAsync(cancellationToken))
            {
                return Report(false, "store", $"{database.Description} does not answer", "check host, port and database name of store.postgres");
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
            return Report(true, "store", pending == 0 ? $"{database.Description}, schema up to date" : $"{database.Description}, {pending} migration(s) to apply at the next start");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var hint = e.Message.Contains("password authentication failed", StringComparison.OrdinalIgnoreCase)
                ? "wrong user or password in store.postgres"
                : e is SocketException || e.InnerException is SocketException ? "the port is closed or the host unreachable" : "see the message above";
            return Report(false, "store", $"{database.Description}: {e.Message}", hint);
        }
    }

    private static async Task<bool> BrokerAsync(TriageOptions options, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(options.Bus.RabbitMq!), ClientProvidedName = "triage-doctor", RequestedConnectionTimeout = TimeSpan.FromSeconds(5) };
        IConnection connection;
        try
        {
            connection = await factory.CreateConnectionAsync(cancellationToken);
        }
        catch (BrokerUnreachableException e)
        {
            var hint = e.InnerException is AuthenticationFailureException || e.ToString().Contains("ACCESS_REFUSED", StringComparison.Ordinal)
                ? "wrong user or password in bus.rabbitmq, or the user has no access to its virtual host"
                : "the port is closed or the host unreachable (is RabbitMQ running? `rabbitmq-diagnostics ping`)";
            return Report(false, "bus", $"{TriageBus.Describe(options)}: {e.InnerException?.Message ?? e.Message}", hint);
        }

        await using (connection)
        {
            var mismatched = new List<string>();
            foreach (var (queue, _, arguments) in BusTopology.Queues(options))
            {
                // A declaration with other arguments than the existing queue's closes the channel: one channel each.
                await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                try
                {
                    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
                {
                    mismatched.Add($"{queue} ({e.ShutdownReason.ReplyText})");
                }
            }

            return mismatched.Count == 0
                ? Report(true, "bus", $"{TriageBus.Describe(options)}, queues declared as expected")
                : Report(false, "bus", $"queue arguments differ: {string.Join("; ", mismatched)}", "a queue's arguments cannot change: drain the queue, delete it, and start a role to declare it anew (docs/decisions/0007)");
        }
    }

    private static async Task<bool> VectorCacheAsync(TriageOptions options, CancellationToken cancellationToken)
    {
        if (!options.Cache.Semantic.Enabled)
        {
            return Report(true, "vector cache", "off (cache.semantic.enabled: false)");
        }

        if (string.IsNullOrWhiteSpace(options.Cache.Qdrant.Url))
        {
            return Report(true, "vector cache", "embedded index, kept in the store");
        }

        using var qdrant = new Router.Cache.QdrantVectorIndex(options.Cache.Qdrant);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await qdrant.CheckAsync(timeout.Token);
            return Report(true, "vector cache", $"{qdrant.Description} answers");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var hint = e.Message.Contains("Unauthenticated", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("api-key", StringComparison.OrdinalIgnoreCase)
                ? "wrong cache.qdrant.api_key"
                : "is Qdrant running? cache.qdrant.url is its gRPC port (6334), not the REST one (6333)";
            return Report(false, "vector cache", $"{qdrant.Description}: {e.Message}", hint);
        }
    }

    private static async Task<bool> ProviderAsync(string name, ProviderOptions provider, CancellationToken cancellationToken)
    {
        var label = $"provider {name}";
        if (provider.Type == ProviderType.Builtin)
        {
            return Report(true, label, "built-in rules, nothing to reach");
        }

        var anthropic = provider.Type == ProviderType.Anthropic;
        var root = (provider.BaseUrl ?? (anthropic ? Workers.Providers.ProviderRegistry.AnthropicBaseUrl : Workers.Providers.ProviderRegistry.OpenAiBaseUrl)).TrimEnd('/');
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, anthropic ? $"{root}/v1/models" : $"{root}/models");
        if (anthropic)
        {
            request.Headers.Add("x-api-key", provider.ApiKey);
            request.Headers.Add("anthropic-version", "2023-06-01");
        }
        else if (!string.IsNullOrEmpty(provider.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", provider.ApiKey);
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            return status switch
            {
                < 300 => Report(true, label, $"{request.RequestUri} answered {status}"),
                401 or 403 => Report(false, label, $"{request.RequestUri} answered {status}", $"the api_key of providers.{name} is wrong or lacks access"),
                404 => Report(false, label, $"{request.RequestUri} answered 404", $"check providers.{name}.base_url (OpenAI-style servers end in /v1, Anthropic's is the root)"),
                _ => Report(false, label, $"{request.RequestUri} answered {status}", "the server is up but unhappy; see its logs"),
            };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return Report(false, label, $"{request.RequestUri}: {e.Message}", e is TaskCanceledException
                ? "no answer within 5 s: a firewall or proxy may drop the connection"
                : $"the port is closed or the host unreachable: check providers.{name}.base_url and the network");
        }
    }

    private static bool Report(bool ok, string check, string detail, string? hint = null)
    {
        Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {check}: {detail}");
        if (!ok && hint is not null)
        {
            Console.WriteLine($"     hint: {hint}");
        }

        return ok;
    }
}

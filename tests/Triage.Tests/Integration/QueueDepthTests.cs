using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// The queue-depth gauge, read from RabbitMQ. It runs alone (with the broker outage tests): gauges of the same name
/// from gateways of parallel tests would share the process's meter.
/// </summary>
[Collection(nameof(Integration.RunsAlone))]
public sealed class QueueDepthTests : DistributedGatewayTest
{
    protected override HostSettings Settings => new(TriageRoles.Ingest | TriageRoles.Router, "http://127.0.0.1:0", []);

    protected override Task<string> ConfigurationAsync() => Task.FromResult("""
        providers:
          idle: { type: openai-compatible, base_url: "http://127.0.0.1:9/v1", model: m }
        routing:
          build_triage: { providers: [idle], timeout_ms: 600000 }
        """);

    [SkippableFact]
    public async Task Requests_waiting_for_a_pool_that_is_not_running_show_in_its_queue_depth()
    {
        for (var i = 0; i < 3; i++)
        {
            using var response = await Gateway.Http.PostFailureAsync(Samples.CompileError());
        }

        string? depth = null;
        for (var i = 0; i < 100 && depth is null; i++)
        {
            await Task.Delay(250);
            depth = (await Gateway.Http.GetStringAsync("/metrics")).Split('\n')
                .FirstOrDefault(l => l.StartsWith("triage_queue_depth{", StringComparison.Ordinal)
                    && l.Contains("queue=\"triage-provider-idle\"", StringComparison.Ordinal)
                    && l.Split(' ')[1] == "3");
        }

        Assert.NotNull(depth);
    }
}

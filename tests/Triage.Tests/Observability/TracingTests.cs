using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Triage.Platform.Telemetry;
using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.Observability;

/// <summary>One trace follows a build failure from the POST through the router, the pools and the recorder, across a failover.</summary>
public sealed class TracingTests(ITestOutputHelper output)
{
    private static readonly ActivitySource Test = new("Triage.Tests");

    [Fact]
    public async Task One_trace_id_spans_ingest_router_worker_and_recorder_across_a_failover()
    {
        var spans = new List<Activity>();
        using var tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(Test.Name, TriageTelemetry.Name, TriageTelemetry.MassTransitSource, "Microsoft.AspNetCore")
            .AddInMemoryExporter(spans)
            .Build();
        await using var primary = await FakeProviderServer.StartAsync(WireFormat.Anthropic);
        await using var secondary = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        primary.Reply = _ => FakeReply.Error(401, "authentication_error", "invalid x-api-key");
        await using var gateway = await GatewayUnderTest.StartAsync($"""
            providers:
              primary: {"{"} type: anthropic, base_url: "{primary.BaseUrl}", api_key: sk-ant-test, model: claude-sonnet-4-5 {"}"}
              secondary: {"{"} type: openai-compatible, base_url: "{secondary.BaseUrl}", model: {FakeProviderServer.Model}, weight: 0 {"}"}
            routing:
              build_triage: {"{"} providers: [primary, secondary] {"}"}
            """);
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        ActivityTraceId traceId;
        using (var root = Test.StartActivity("build step posts a failure"))
        {
            traceId = root!.TraceId;
            using var response = await gateway.Http.PostFailureAsync(document);
        }

        var triage = await gateway.Http.WaitForTriageAsync(id);
        Assert.Equal("secondary", triage.Provider);
        List<Activity> trace = [];
        for (var i = 0; i < 50; i++)
        {
            tracer.ForceFlush();
            lock (spans)
            {
                trace = spans.Where(s => s.TraceId == traceId).ToList();
            }

            if (trace.Any(IsRecorder))
            {
                break;
            }

            await Task.Delay(100);
        }

        foreach (var span in trace.OrderBy(s => s.StartTimeUtc))
        {
            output.WriteLine($"{span.Source.Name,-20} {span.DisplayName,-50} {string.Join(", ", span.TagObjects.Where(t => t.Key.StartsWith("messaging.") || t.Key.StartsWith("triage.") || t.Key.StartsWith("gen_ai.")).Select(t => $"{t.Key}={t.Value}"))}");
        }

        Assert.Contains(trace, s => s.Source.Name == "Microsoft.AspNetCore" && s.Kind == ActivityKind.Server);
        Assert.Single(trace, s => s.DisplayName == "triage.excerpt");
        var routes = trace.Where(s => s.DisplayName == "triage.route").ToList();
        Assert.Equal(["routed", "failover"], routes.OrderBy(s => s.StartTimeUtc).Select(s => s.GetTagItem(TriageTelemetry.Outcome)));
        var calls = trace.Where(s => s.Source.Name == TriageTelemetry.Name && s.DisplayName.StartsWith("chat ", StringComparison.Ordinal)).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["anthropic", "openai"], calls.Select(c => c.GetTagItem(TriageTelemetry.GenAiSystem)));
        Assert.Equal(812, calls[1].GetTagItem(TriageTelemetry.GenAiInputTokens));
        Assert.Equal(FakeProviderServer.Model, calls[1].GetTagItem(TriageTelemetry.GenAiResponseModel));
        Assert.Equal(ActivityStatusCode.Error, calls[0].Status);
        Assert.Single(trace, s => Consumed(s, "Routing.BuildFailedConsumer"));
        Assert.Equal(2, trace.Count(s => Consumed(s, "Pools.TriageRequestedConsumer")));
        Assert.Single(trace, s => Consumed(s, "Routing.AttemptFailedConsumer"));
        Assert.Single(trace, IsRecorder);
    }

    private static bool IsRecorder(Activity span) => Consumed(span, "Recording.TriageCompletedRecorder");

    /// <summary>MassTransit's process span of a message by the consumer of that type.</summary>
    private static bool Consumed(Activity span, string consumer) =>
        span.Source.Name == TriageTelemetry.MassTransitSource
        && span.GetTagItem("messaging.masstransit.consumer_type") is string type
        && type.EndsWith(consumer, StringComparison.Ordinal);
}

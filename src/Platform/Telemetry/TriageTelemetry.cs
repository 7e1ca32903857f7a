using System.Diagnostics;

namespace Triage.Platform.Telemetry;

/// <summary>
/// The project's own trace source and meter name. MassTransit's spans carry a failure from one hop to the next;
/// these add what only the gateway knows: the excerpt, the routing decision and the provider call.
/// </summary>
public static class TriageTelemetry
{
    public const string Name = "Triage";

    /// <summary>The ActivitySource MassTransit 8 traces its sends and consumes with.</summary>
    public const string MassTransitSource = "MassTransit";

    public static readonly ActivitySource Source = new(Name);

    /// <summary>
    /// Set on an outgoing request whose URL is itself a secret (a Slack incoming webhook): HttpClient tracing skips it,
    /// so the URL never reaches a trace backend.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> Untraced = new("triage.untraced");

    // Tags of the project's own spans; GenAI ones follow the OpenTelemetry semantic conventions.
    public const string EventId = "triage.event_id";
    public const string Route = "triage.route";
    public const string Provider = "triage.provider";
    public const string Attempt = "triage.attempt";
    public const string Outcome = "triage.outcome";
    public const string GenAiSystem = "gen_ai.system";
    public const string GenAiOperation = "gen_ai.operation.name";
    public const string GenAiRequestModel = "gen_ai.request.model";
    public const string GenAiResponseModel = "gen_ai.response.model";
    public const string GenAiInputTokens = "gen_ai.usage.input_tokens";
    public const string GenAiOutputTokens = "gen_ai.usage.output_tokens";
}

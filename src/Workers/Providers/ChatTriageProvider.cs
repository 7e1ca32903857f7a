using Microsoft.Extensions.AI;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Telemetry;
using Triage.Workers.Prompt;
using Triage.Workers.Providers.Resilience;

namespace Triage.Workers.Providers;

/// <summary>
/// A language model behind <see cref="IChatClient"/> (Anthropic, OpenAI or any OpenAI-compatible server) asked for a
/// triage under the provider's resilience pipeline. An answer that does not validate is asked for once more with the
/// validation error; a second invalid answer fails the attempt, never yields a half-filled triage.
/// </summary>
public sealed class ChatTriageProvider(
    string name,
    ProviderOptions options,
    IChatClient chat,
    ProviderResilience resilience,
    TriagePrompt prompt) : ITriageProvider
{
    public string Name { get; } = name;

    public ProviderResilience Resilience { get; } = resilience;

    public async Task<ProviderAnswer> TriageAsync(TriageRequested request, CancellationToken cancellationToken)
    {
        var (user, owners) = prompt.User(request, options.MaxExcerptTokens);
        List<ChatMessage> messages = [new(ChatRole.System, TriagePrompt.System), new(ChatRole.User, user)];
        var chatOptions = new ChatOptions
        {
            Temperature = 0,
            MaxOutputTokens = options.MaxOutputTokens,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(TriageAnswer.Schema, "triage", "A triage of one failed build."),
        };

        var first = await AskAsync(messages, chatOptions, cancellationToken);
        var usage = first.Usage;
        if (!TriageAnswer.TryParse(first.Text, out var verdict, out var error))
        {
            messages.Add(new ChatMessage(ChatRole.Assistant, first.Text));
            messages.Add(new ChatMessage(ChatRole.User, $"That answer is not valid: {error}. Answer again with the corrected JSON object only."));
            var second = await AskAsync(messages, chatOptions, cancellationToken);
            usage = new TokenUsage(usage.InputTokens + second.Usage.InputTokens, usage.OutputTokens + second.Usage.OutputTokens);
            if (!TriageAnswer.TryParse(second.Text, out verdict, out error))
            {
                // Both answers were billed: the pool must be able to charge the failed attempt.
                throw new ProviderException(Name, ProviderFailure.InvalidAnswer, $"two answers failed validation; the last: {error}")
                {
                    BilledUsage = usage,
                    BilledModel = first.Model,
                };
            }
        }

        // Owners can only come from the hints: a log cannot talk the model into paging someone else.
        var suggested = verdict!.SuggestedOwners.Where(o => owners.Contains(o, StringComparer.OrdinalIgnoreCase)).ToList();
        return new ProviderAnswer(verdict with { SuggestedOwners = suggested }, first.Model, usage);
    }

    private async Task<(string Text, string Model, TokenUsage Usage)> AskAsync(
        List<ChatMessage> messages, ChatOptions chatOptions, CancellationToken cancellationToken)
    {
        var requested = options.Model ?? Name;
        using var activity = TriageTelemetry.Source.StartActivity($"chat {requested}", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag(TriageTelemetry.Provider, Name);
        activity?.SetTag(TriageTelemetry.GenAiSystem, options.Type == ProviderType.Anthropic ? "anthropic" : "openai");
        activity?.SetTag(TriageTelemetry.GenAiOperation, "chat");
        activity?.SetTag(TriageTelemetry.GenAiRequestModel, requested);
        ChatResponse response;
        try
        {
            response = await Resilience.ExecuteAsync((_, token) => chat.GetResponseAsync(messages, chatOptions, token), cancellationToken);
        }
        catch (ProviderException e)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Failure.ToString());
            activity?.SetTag("error.type", e.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? e.Failure.ToString());
            throw;
        }

        var usage = new TokenUsage((int)(response.Usage?.InputTokenCount ?? 0), (int)(response.Usage?.OutputTokenCount ?? 0));
        var model = response.ModelId ?? requested;
        activity?.SetTag(TriageTelemetry.GenAiResponseModel, model);
        activity?.SetTag(TriageTelemetry.GenAiInputTokens, usage.InputTokens);
        activity?.SetTag(TriageTelemetry.GenAiOutputTokens, usage.OutputTokens);
        return (response.Text, model, usage);
    }
}

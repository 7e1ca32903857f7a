using MassTransit;
using Triage.Contracts;
using Triage.Platform.DeadLetters;

namespace Triage.Router.Recording;

/// <summary>
/// Keeps every dead letter in the store, from the durable <c>triage-dead-letters</c> queue: the row is written before
/// the message is acknowledged, so a crash in between delivers it again and writes the same row (an upsert).
/// </summary>
public sealed class DeadLetterRecorder(DeadLetterStore letters) : IConsumer<TriageDeadLettered>
{
    public Task Consume(ConsumeContext<TriageDeadLettered> context) => letters.RecordAsync(context.Message, context.CancellationToken);
}

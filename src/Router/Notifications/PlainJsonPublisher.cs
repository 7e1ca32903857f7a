using Triage.Contracts;

namespace Triage.Router.Notifications;

/// <summary>
/// Publishes the first recorded result of each failure on <c>triage.completed.json</c> as plain camelCase JSON, for
/// subscribers that do not speak MassTransit's envelope. One implementation per bus: RabbitMQ, or nothing at all on the
/// in-memory bus of the embedded mode, which has no broker for anybody else to subscribe to.
/// </summary>
public interface IPlainJsonPublisher
{
    /// <summary>Returns once the broker confirmed the message; throws when it did not.</summary>
    Task PublishAsync(TriageCompleted result, CancellationToken cancellationToken);
}

/// <summary>The embedded mode's publisher: there is no exchange, and nobody outside the process to tell.</summary>
internal sealed class NoPlainJsonPublisher : IPlainJsonPublisher
{
    public Task PublishAsync(TriageCompleted result, CancellationToken cancellationToken) => Task.CompletedTask;
}

// A .NET subscriber of the gateway's results: a MassTransit consumer of TriageCompleted on a durable queue of its own,
// bound to the exchange triage.triage-completed. Every subscriber gets every result; several processes on the same
// queue share them.
//
//   RABBITMQ_URI=amqp://guest:guest@127.0.0.1:5672/ SUBSCRIBER_QUEUE=my-team-triages dotnet run --project examples/subscribers/dotnet
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Triage.Contracts;

var broker = Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/";
var queue = Environment.GetEnvironmentVariable("SUBSCRIBER_QUEUE") ?? "my-team-triages";

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddMassTransit(bus =>
{
    bus.AddConsumer<PrintTriage>();
    bus.UsingRabbitMq((context, rabbit) =>
    {
        rabbit.Host(new Uri(broker));

        // The gateway publishes TriageCompleted on this exchange; without the name MassTransit would bind the queue
        // to an exchange named after the type (Triage.Contracts:TriageCompleted), where nothing is ever published.
        rabbit.Message<TriageCompleted>(message => message.SetEntityName("triage.triage-completed"));
        rabbit.ReceiveEndpoint(queue, endpoint => endpoint.ConfigureConsumer<PrintTriage>(context));
    });
});

await builder.Build().RunAsync();

/// <summary>Prints each triage. Delivery is at least once: a real subscriber de-duplicates on the event id.</summary>
internal sealed class PrintTriage : IConsumer<TriageCompleted>
{
    public Task Consume(ConsumeContext<TriageCompleted> context)
    {
        var triage = context.Message;
        var owners = triage.SuggestedOwners.Count == 0 ? "none suggested" : string.Join(", ", triage.SuggestedOwners);
        Console.WriteLine($"{triage.EventId} [{triage.Route}] {triage.Category}: {triage.Summary}");
        Console.WriteLine($"    cause: {triage.SuspectedCause}");
        Console.WriteLine($"    owners: {owners}; by {triage.Provider} ({triage.Model}){(triage.Cache is null ? string.Empty : ", reused from the cache")}");
        return Task.CompletedTask;
    }
}

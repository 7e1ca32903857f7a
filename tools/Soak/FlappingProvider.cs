using Triage.Fakes;

namespace Triage.Soak;

/// <summary>
/// An OpenAI-compatible provider that is up for a period, then answers every call with 503 for as long, and so on:
/// the outage a soak must ride through, failing over where a route can and dead-lettering where it cannot.
/// </summary>
internal sealed class FlappingProvider : IAsyncDisposable
{
    private readonly FakeProviderServer server;
    private readonly DateTimeOffset started = DateTimeOffset.UtcNow;
    private readonly TimeSpan period;
    private volatile bool heldUp;
    private long calls;
    private long refused;

    private FlappingProvider(FakeProviderServer server, TimeSpan period)
    {
        this.server = server;
        this.period = period;
        server.Record = false;
        server.Latency = TimeSpan.FromMilliseconds(300);
        server.Reply = _ =>
        {
            Interlocked.Increment(ref calls);
            if (IsDown)
            {
                Interlocked.Increment(ref refused);
                return FakeReply.Error(503, "server_error", "the provider is down (soak)");
            }

            return FakeReply.Answer(FakeProviderServer.DefaultAnswer);
        };
    }

    public string BaseUrl => server.BaseUrl;

    /// <summary>Down during every second period: up first, so the gateway starts healthy.</summary>
    public bool IsDown => !heldUp && (long)((DateTimeOffset.UtcNow - started) / period) % 2 == 1;

    public long Calls => Interlocked.Read(ref calls);

    public long Refused => Interlocked.Read(ref refused);

    /// <summary>How many down periods have begun so far.</summary>
    public int Outages => (int)(((long)((DateTimeOffset.UtcNow - started) / period) + 1) / 2);

    public static async Task<FlappingProvider> StartAsync(TimeSpan period) =>
        new(await FakeProviderServer.StartAsync(), period);

    /// <summary>Stops the flapping: the outage is over before the dead letters are replayed.</summary>
    public void HoldUp() => heldUp = true;

    public ValueTask DisposeAsync() => server.DisposeAsync();
}

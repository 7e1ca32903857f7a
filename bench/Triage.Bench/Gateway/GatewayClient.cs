using System.Net;
using System.Net.Http.Headers;

namespace Triage.Bench.Gateway;

/// <summary>The gateway answered the post with something else than 202: nothing will come back for it.</summary>
internal sealed class RefusedException(string message) : Exception(message);

/// <summary>A build step of the bench: posts failures to Ingest and waits for their results at the bench's subscriber.</summary>
internal sealed class GatewayClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Tells this bench process's event ids from those of an earlier one that used the same names.</summary>
    private static readonly string RunTag = Guid.NewGuid().ToString("N")[..8];

    private readonly Completions completions;
    private long sequence;

    public GatewayClient(Uri ingest, Completions completions)
    {
        this.completions = completions;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2048 }) { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    /// <summary>Unique within this bench process, so that a run never meets a result of an earlier one.</summary>
    public string NextEventId(string scenario) => $"bench-{RunTag}-{scenario}-{Interlocked.Increment(ref sequence)}";

    /// <summary>Posts a body made by <see cref="FailureSample.Body"/> and returns when its result reached the subscriber.</summary>
    public async Task<Completion> TriageAsync(string eventId, byte[] body, CancellationToken cancellationToken)
    {
        var result = completions.Expect(eventId);
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = Json;
            using (var response = await Http.PostAsync("/v1/build-failures", content, cancellationToken))
            {
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    throw new RefusedException($"HTTP {(int)response.StatusCode}");
                }
            }

            return await result.WaitAsync(cancellationToken);
        }
        finally
        {
            completions.Forget(eventId);
        }
    }

    public void Dispose() => Http.Dispose();
}

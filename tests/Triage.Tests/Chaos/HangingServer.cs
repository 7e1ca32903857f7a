using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Triage.Tests.Chaos;

/// <summary>
/// One connection to the <see cref="HangingServer"/>: when it was opened, when a call on it started (its first bytes) and
/// when the caller gave up on it. A connection without a call is one the client's pool opened and kept idle: .NET goes
/// on connecting when the request that asked for the connection is cancelled, and pools the connection for later.
/// </summary>
public sealed class HeldConnection(DateTimeOffset acceptedAt)
{
    private long closedAtTicks;
    private long calledAtTicks;

    public DateTimeOffset AcceptedAt { get; } = acceptedAt;

    /// <summary>When the first bytes of a request arrived; null while the connection only sits in the client's pool.</summary>
    public DateTimeOffset? CalledAt
    {
        get
        {
            var ticks = Interlocked.Read(ref calledAtTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public DateTimeOffset? ClosedAt
    {
        get
        {
            var ticks = Interlocked.Read(ref closedAtTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>How long the caller held its call: until it closed the connection, or until now while it still holds it.</summary>
    public TimeSpan Held => CalledAt is { } called ? (ClosedAt ?? DateTimeOffset.UtcNow) - called : TimeSpan.Zero;

    internal void Called() => Interlocked.CompareExchange(ref calledAtTicks, DateTimeOffset.UtcNow.UtcTicks, 0);

    internal void Close() => Interlocked.Exchange(ref closedAtTicks, DateTimeOffset.UtcNow.UtcTicks);
}

/// <summary>
/// A provider whose network hangs: it accepts every connection on 127.0.0.1, reads whatever is sent and never answers
/// a byte. Only the caller can end a call, by giving up on it; each connection records when that happened.
/// </summary>
public sealed class HangingServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<HeldConnection> connections = new();
    private readonly Task accepting;

    private HangingServer()
    {
        listener.Start();
        accepting = AcceptAsync();
    }

    /// <summary>The base_url to configure as an OpenAI-compatible provider.</summary>
    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/v1";

    public IReadOnlyList<HeldConnection> Connections => connections.ToList();

    /// <summary>The connections a call was made on (a request arrived): each one a call the caller had to give up.</summary>
    public IReadOnlyList<HeldConnection> Calls => connections.Where(c => c.CalledAt is not null).ToList();

    public static Task<HangingServer> StartAsync() => Task.FromResult(new HangingServer());

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var held = new HeldConnection(DateTimeOffset.UtcNow);
            connections.Enqueue(held);
            _ = HoldAsync(client, held);
        }
    }

    private async Task HoldAsync(TcpClient client, HeldConnection held)
    {
        using (client)
        {
            var buffer = new byte[8192];
            try
            {
                var stream = client.GetStream();
                while (await stream.ReadAsync(buffer, stopping.Token) > 0)
                {
                    held.Called();
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }

            held.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        stopping.Dispose();
    }
}

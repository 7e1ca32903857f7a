using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.Abuse;

/// <summary>
/// Bodies far over <c>ingest.max_body_bytes</c> (5 MiB): refused with a problem document without being read into
/// memory, whether their length is announced or they come chunked. They measure the process's allocations, so they
/// run alone.
/// </summary>
[Collection(nameof(Integration.RunsAlone))]
public sealed class OversizedBodyTests(AbuseGateway fixture, ITestOutputHelper output) : IClassFixture<AbuseGateway>
{
    private const long FiftyMegabytes = 50L * 1024 * 1024;

    /// <summary>Far less than the body: reading it whole would allocate at least its 50 MB.</summary>
    private const long AllowedAllocation = 24L * 1024 * 1024;

    [Theory]
    [InlineData("/v1/build-failures", true)]
    [InlineData("/v1/build-failures", false)]
    [InlineData("/v1/webhooks/jenkins", true)]
    [InlineData("/v1/webhooks/jenkins", false)]
    [InlineData("/v1/webhooks/github", true)]
    [InlineData("/v1/webhooks/github", false)]
    [InlineData("/v1/webhooks/gitlab", true)]
    [InlineData("/v1/webhooks/gitlab", false)]
    public async Task A_50_MB_body_is_a_413_problem_without_being_read_into_memory(string path, bool announced)
    {
        var before = await fixture.FootprintAsync();
        (string, string)[] credentials =
        [
            ("Authorization", "Bearer " + fixture.TeamSecret),
            ("X-Triage-Token", AbuseGateway.JenkinsToken),
            ("X-Gitlab-Token", AbuseGateway.GitLabToken),
            ("X-GitHub-Event", "workflow_run"),
            ("X-Hub-Signature-256", "sha256=" + new string('0', 64)),
        ];

        var (answer, allocated, retained) = await MeasureAsync(() => PostAsync(path, credentials, FiftyMegabytes, announced));

        output.WriteLine($"{path}, {(announced ? "length announced" : "chunked")}: {answer.Sent / 1024 / 1024} MB sent, allocated {allocated / 1024 / 1024} MB, retained {retained / 1024 / 1024} MB");
        Assert.Equal(413, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Contains("max_body_bytes", JsonNode.Parse(answer.Body)!["detail"]!.GetValue<string>());
        Assert.True(allocated < AllowedAllocation, $"allocated {allocated / 1024 / 1024} MB while refusing a 50 MB body");
        Assert.True(retained < AllowedAllocation, $"the process kept {retained / 1024 / 1024} MB more after refusing a 50 MB body");
        Assert.Equal(before, await fixture.FootprintAsync());
    }

    [Theory]
    [InlineData("/v1/admin/keys")]
    [InlineData("/v1/dead-letters/replay")]
    [InlineData("/v1/dead-letters/archive")]
    public async Task A_50_MB_admin_body_is_a_400_problem_naming_the_size_without_being_read_into_memory(string path)
    {
        var before = await fixture.FootprintAsync();

        var (answer, allocated, _) = await MeasureAsync(() => PostAsync(path, [("Authorization", "Bearer " + AbuseGateway.AdminKey)], FiftyMegabytes, announced: false));

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Contains("the body must be at most", JsonNode.Parse(answer.Body)!["errors"]!["$"]![0]!.GetValue<string>());
        Assert.True(allocated < AllowedAllocation, $"allocated {allocated / 1024 / 1024} MB while refusing a 50 MB body");
        Assert.Equal(before, await fixture.FootprintAsync());
    }

    [Fact]
    public async Task A_chunked_failure_just_over_the_limit_is_a_413_and_one_just_under_is_accepted()
    {
        const long Limit = 5 * 1024 * 1024;

        using var over = await fixture.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures") { Content = new EndlessFailure(Limit + 1, announced: false) });
        using var under = await fixture.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures") { Content = new EndlessFailure(Limit, announced: false) });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        Assert.Equal("application/problem+json", over.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Accepted, under.StatusCode);
    }

    /// <summary>The bytes allocated by the whole process while <paramref name="send"/> ran, and what it kept after.</summary>
    private static async Task<(T Result, long Allocated, long Retained)> MeasureAsync<T>(Func<Task<T>> send)
    {
        var retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var result = await send();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var retained = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        return (result, allocated, retained);
    }

    /// <summary>
    /// Posts <paramref name="length"/> bytes over a socket of its own and reads the answer while still sending, as curl
    /// does: a server may answer before the body is over, and HttpClient reports the connection it then closes as an
    /// error of the upload instead of the answer that came first.
    /// </summary>
    private async Task<RawAnswer> PostAsync(string path, (string Name, string Value)[] headers, long length, bool announced)
    {
        var address = fixture.Http.BaseAddress!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        var head = new StringBuilder($"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\n");
        head.Append(announced ? $"Content-Length: {length}\r\n" : "Transfer-Encoding: chunked\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reading = ReadToEndAsync(stream, timeout.Token);
        var content = new EndlessFailure(length, announced);
        try
        {
            if (announced)
            {
                await content.WriteAsync(stream, () => reading.IsCompleted, timeout.Token);
            }
            else
            {
                await using var chunks = new ChunkedStream(stream);
                await content.WriteAsync(chunks, () => reading.IsCompleted, timeout.Token);
            }
        }
        catch (IOException)
        {
            // The server closed the connection once it had answered: what it answered is what counts.
        }

        var answer = Encoding.UTF8.GetString(await reading);
        var split = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"no answer after {content.Written} bytes sent: '{answer}'");
        var lines = answer[..split].Split("\r\n");
        var contentType = lines.FirstOrDefault(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?.Split(':', 2)[1].Split(';')[0].Trim();
        var chunked = lines.Any(l => l.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase));
        var rest = answer[(split + 4)..];
        return new RawAnswer(int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture), contentType, chunked ? Unchunk(rest) : rest, content.Written);
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var answer = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer: the answer is already here.
        }

        return answer.ToArray();
    }

    private static string Unchunk(string body)
    {
        var text = new StringBuilder();
        while (body.IndexOf("\r\n", StringComparison.Ordinal) is var end and > 0
            && int.Parse(body[..end], NumberStyles.HexNumber, CultureInfo.InvariantCulture) is var size and > 0)
        {
            text.Append(body.AsSpan(end + 2, size));
            body = body[(end + 2 + size + 2)..];
        }

        return text.ToString();
    }

    private sealed record RawAnswer(int Status, string? ContentType, string Body, long Sent);

    /// <summary>Writes what is written to it as HTTP/1.1 chunks, and the last chunk when disposed.</summary>
    private sealed class ChunkedStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(Encoding.ASCII.GetBytes($"{buffer.Length:x}\r\n"), cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
            await inner.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
        }

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await inner.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (IOException)
            {
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// A valid build failure whose log makes it <c>length</c> bytes long, written from one small buffer so that the
    /// client allocates nothing in proportion; with its length announced, or chunked.
    /// </summary>
    private sealed class EndlessFailure(long length, bool announced) : HttpContent
    {
        private readonly byte[] head = Encoding.UTF8.GetBytes(
            new JsonObject { ["eventId"] = "oversized-" + Guid.NewGuid().ToString("N"), ["source"] = "jenkins", ["job"] = "big", ["buildNumber"] = 1 }.ToJsonString()[..^1] + ",\"log\":\"");

        private static readonly byte[] Tail = "\"}"u8.ToArray();

        /// <summary>The bytes of the body written so far.</summary>
        public long Written { get; private set; }

        /// <summary>Writes the body until it is all written or <paramref name="answered"/>.</summary>
        public async Task WriteAsync(Stream stream, Func<bool> answered, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(head, cancellationToken);
            Written = head.Length;
            var filler = new byte[64 * 1024];
            Array.Fill(filler, (byte)'x');
            for (var left = length - head.Length - Tail.Length; left > 0 && !answered(); left -= filler.Length)
            {
                var chunk = (int)Math.Min(filler.Length, left);
                await stream.WriteAsync(filler.AsMemory(0, chunk), cancellationToken);
                Written += chunk;
            }

            if (!answered())
            {
                await stream.WriteAsync(Tail, cancellationToken);
                Written += Tail.Length;
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            WriteAsync(stream, () => false, CancellationToken.None);

        protected override bool TryComputeLength(out long computed)
        {
            computed = length;
            return announced;
        }
    }
}

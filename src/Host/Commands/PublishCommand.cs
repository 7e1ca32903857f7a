using System.CommandLine;
using System.Net;
using Triage.Ingest.BuildFailures;

namespace Triage.Host.Commands;

/// <summary><c>triage publish FILE</c>: send a build failure document to an Ingest, as a build step would.</summary>
internal static class PublishCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A BuildFailed JSON document (see src/Host/Samples)." };
        var url = new Option<string>("--url")
        {
            Description = "The Ingest to post to.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TRIAGE_URL") ?? Hosting.HostSettings.DefaultUrls,
        };
        var wait = new Option<bool>("--wait") { Description = "Wait for the triage and print it." };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to wait for the triage with --wait.",
            DefaultValueFactory = _ => 60,
        };
        var repeat = new Option<int>("--repeat")
        {
            Description = "Post N copies one after another, each under a fresh eventId, wait for each triage, and print the time from POST to stored result (median, p90, min, max).",
        };
        var key = new Option<string?>("--key")
        {
            Description = "The team's virtual key (tk-...), sent as 'Authorization: Bearer'; default $TRIAGE_KEY. Required when the gateway demands keys.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TRIAGE_KEY"),
        };
        var command = new Command("publish", "Post a build failure to a running gateway.") { file, url, key, wait, timeout, repeat };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"FILE: {path.FullName} does not exist.");
                return 2;
            }

            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var baseAddress))
            {
                await Console.Error.WriteLineAsync($"--url: '{parse.GetValue(url)}' is not an absolute URL.");
                return 2;
            }

            // With --wait, one request held open by Ingest brings the triage back; polling takes over for the rest.
            var patience = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(timeout)));
            var held = parse.GetValue(wait) && parse.GetValue(repeat) <= 0 ? (patience < TriageWait.Longest ? patience : TriageWait.Longest) : TimeSpan.Zero;
            var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) + held };
            if (parse.GetValue(key) is { Length: > 0 } secret)
            {
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
            }

            using var client = new TriageClient(http);
            try
            {
                if (parse.GetValue(repeat) > 0)
                {
                    return await RepeatAsync(client, await File.ReadAllTextAsync(path.FullName, cancellationToken), parse.GetValue(repeat), TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken);
                }

                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var posted = await client.PostAsync(await File.ReadAllBytesAsync(path.FullName, cancellationToken), held, cancellationToken);
                if (posted.Triage is { } waited)
                {
                    Console.WriteLine($"{(int)posted.Status} triage of {waited.EventId}");
                    TriageClient.Print(Console.Out, waited);
                    return 0;
                }

                Console.WriteLine($"{(int)posted.Status} {posted.Body}");
                if (posted.Status != HttpStatusCode.Accepted || posted.Id is not { } id)
                {
                    return 1;
                }

                if (!parse.GetValue(wait))
                {
                    return 0;
                }

                var triage = await client.WaitAsync(id, patience - System.Diagnostics.Stopwatch.GetElapsedTime(started), cancellationToken);
                if (triage is null)
                {
                    await Console.Error.WriteLineAsync($"No triage for {id} within {parse.GetValue(timeout)} s.");
                    return 1;
                }

                TriageClient.Print(Console.Out, triage);
                return 0;
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"Could not reach {baseAddress}: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RepeatAsync(TriageClient client, string document, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(document)!.AsObject();
        var run = Guid.NewGuid().ToString("N")[..8];
        var timings = new List<double>();
        for (var i = 0; i < count; i++)
        {
            json["eventId"] = $"repeat-{run}-{i}";
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (status, body, id) = await client.PostAsync(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), cancellationToken);
            if (id is null || await client.WaitAsync(id, timeout, cancellationToken) is null)
            {
                await Console.Error.WriteLineAsync($"copy {i}: {(int)status} {body}, or no triage within {timeout.TotalSeconds} s");
                return 1;
            }

            timings.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        timings.Sort();
        double At(double q) => timings[(int)Math.Min(timings.Count - 1, Math.Ceiling(q * timings.Count) - 1)];
        Console.WriteLine(
            $"{count} triages, POST to stored result (ms, polled): median {At(0.5):0.0}, p90 {At(0.9):0.0}, min {timings[0]:0.0}, max {timings[^1]:0.0}");
        return 0;
    }
}

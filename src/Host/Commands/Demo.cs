using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Triage.Host.Commands;

/// <summary>Posts the bundled sample failures to the gateway it runs in and prints each triage.</summary>
internal static class Demo
{
    public const int KeepServing = -1;

    public static async Task<int> RunAsync(WebApplication app, bool exitWhenDone, CancellationToken cancellationToken)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var samples = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Samples"), "*.json").Order().ToList();
        using var client = new TriageClient(new HttpClient { BaseAddress = new Uri(address) });
        var failures = 0;
        Console.WriteLine();
        Console.WriteLine($"Posting {samples.Count} sample build failures to {address}/v1/build-failures");
        foreach (var sample in samples)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, body, id) = await client.PostAsync(await File.ReadAllBytesAsync(sample, cancellationToken), cancellationToken);
            Console.WriteLine();
            Console.WriteLine($"{Path.GetFileNameWithoutExtension(sample)}: POST answered {(int)status}");
            if (id is null)
            {
                Console.WriteLine($"  {body}");
                failures++;
                continue;
            }

            var triage = await client.WaitAsync(id, TimeSpan.FromSeconds(30), cancellationToken);
            if (triage is null)
            {
                Console.WriteLine($"  no triage for {id} within 30 s");
                failures++;
                continue;
            }

            Console.WriteLine($"  id:         {id} (stored result after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms)");
            TriageClient.Print(Console.Out, triage);
        }

        Console.WriteLine();
        if (exitWhenDone)
        {
            return failures == 0 ? 0 : 1;
        }

        Console.WriteLine($"The gateway keeps serving at {address}: try `dotnet run --project src/Host -- publish FILE --url {address} --wait`. Ctrl+C stops it.");
        return KeepServing;
    }
}

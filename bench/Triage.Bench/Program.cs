// The bench harness: `dotnet run -c Release --project bench/Triage.Bench -- SCENARIO [options]`.
// Every scenario measures the thing and its floor side by side, interleaved, in one run: the machine is noisy.
using Triage.Bench;
using Triage.Bench.Gateway;

var scenario = args.FirstOrDefault();
switch (scenario)
{
    case "provider-overhead":
        return await ProviderOverhead.RunAsync(Options.Parse(args.Skip(1).ToArray()));
    case "replay":
        return await ReplayBench.RunAsync(args.Skip(1).ToArray());
    case "gateway":
        return await GatewayBench.RunAsync(args.Skip(1).ToArray());
    default:
        Console.Error.WriteLine("""
            usage: dotnet run -c Release --project bench/Triage.Bench -- SCENARIO [options]
            (docs/benchmarks.md describes each)

            scenarios:
              provider-overhead   time one triage through a provider pool's client (SDK, IChatClient, resilience
                                  pipeline, prompt, validation) against the same fake server called with a bare
                                  HttpClient, for the OpenAI-compatible and the Anthropic wire format
                                  [--calls N] [--latency-ms N] [--json FILE]
              replay              seed N dead letters in PostgreSQL and time `triage replay --all` (the Release
                                  build of src/Host) against RabbitMQ: achieved rate, peak RSS, 100% reached
                                  [--dead-letters 50000] [--rate 1000]; needs RabbitMQ (management API) and PostgreSQL
            """ + "\n" + GatewayOptions.Usage);
        return 2;
}

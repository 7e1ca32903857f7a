using Microsoft.Extensions.Time.Testing;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Redaction;
using Triage.Tests.Infrastructure;
using Triage.Workers.Ownership;
using Triage.Workers.Prompt;
using Triage.Workers.Providers;

namespace Triage.Tests.Providers;

/// <summary>A provider of the worker pools, built from configuration exactly as a pool builds it, aimed at a fake server.</summary>
public static class ProviderHarness
{
    public const string Key = "sk-test-0123456789";

    public static ChatTriageProvider Create(FakeProviderServer server, TimeProvider time, Action<ProviderOptions>? configure = null, TriageOptions? options = null)
    {
        options ??= new TriageOptions();
        var provider = new ProviderOptions
        {
            Type = server.ProviderType,
            BaseUrl = server.BaseUrl,
            ApiKey = Key,
            Model = server.Format == WireFormat.Anthropic ? "claude-sonnet-4-5" : FakeProviderServer.Model,
            TimeoutMs = 600_000,
        };
        configure?.Invoke(provider);
        options.Providers["p"] = provider;
        var ownership = new OwnershipDirectory(options);
        var registry = new ProviderRegistry(options, new TriagePrompt(new SecretRedactor(), ownership), ownership, time);
        return (ChatTriageProvider)registry.Get("p");
    }

    public static TriageRequested Request(string? log = null) => new()
    {
        EventId = "e-" + Guid.NewGuid().ToString("N"),
        Route = "build_triage",
        Provider = "p",
        Failure = Samples.Failure(log ?? Samples.Load("01-maven-compile-error")["log"]!.GetValue<string>()) with
        {
            Repository = "acme/payments-service",
        },
    };

    /// <summary>
    /// Runs a call while moving a fake clock forward, so that backoff delays of seconds pass in milliseconds and the
    /// test still sees every retry the pipeline makes.
    /// </summary>
    public static async Task<T> WithClock<T>(FakeTimeProvider clock, Func<Task<T>> call, TimeSpan? step = null)
    {
        var task = call();
        while (!task.IsCompleted)
        {
            await Task.WhenAny(task, Task.Delay(10));
            clock.Advance(step ?? TimeSpan.FromMilliseconds(250));
        }

        return await task;
    }

    public static async Task WaitFor(Func<bool> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(10);
        }
    }
}

using System.Diagnostics;
using System.Net;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// Tests that run alone, after every test that runs in parallel: those that stop the shared RabbitMQ, and those
/// that read the gateway's metrics from /metrics, where a gateway of a parallel test (the meters are the process's)
/// can end a metric stream this gateway's measurements were merged into.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

[Collection(nameof(RunsAlone))]
public sealed class BrokerOutageTests : DistributedGatewayTest
{
    protected override Task<string> ConfigurationAsync() => Task.FromResult("providers: { rules: { type: builtin } }");

    [SkippableFact]
    public async Task Readiness_goes_unready_while_RabbitMQ_is_stopped_and_ready_again_after_it_restarts()
    {
        Assert.Equal(HttpStatusCode.OK, (await Ready()).Status);

        await RabbitMqCtl("stop_app");
        try
        {
            var unready = await Eventually(async () => (await Ready()).Status == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
            Assert.True(unready, "readiness stayed 200 with the broker stopped");
            Assert.Contains("masstransit-bus", (await Ready()).Body);

            // While the broker is down Ingest cannot get a confirm, so it must not answer 202.
            using var refused = await Gateway.Http.PostFailureAsync(Samples.CompileError());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        finally
        {
            await RabbitMqCtl("start_app");
        }

        var ready = await Eventually(async () => (await Ready()).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.True(ready, "readiness did not come back after the broker restarted");
        var document = Samples.CompileError();
        using var accepted = await Gateway.Http.PostFailureAsync(document);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("rules", (await Gateway.Http.WaitForTriageAsync(document["eventId"]!.GetValue<string>())).Provider);
    }

    private async Task<(HttpStatusCode Status, string Body)> Ready()
    {
        using var response = await Gateway.Http.GetAsync("/readyz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    private static async Task RabbitMqCtl(string command)
    {
        var start = new ProcessStartInfo("rabbitmqctl", command) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception) when (Environment.GetEnvironmentVariable("CI") != "true")
        {
            throw new SkipException("skipped: rabbitmqctl is not on this machine, so the broker cannot be stopped");
        }

        using (process)
        {
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"rabbitmqctl {command}: {await process.StandardError.ReadToEndAsync()}");
        }
    }
}

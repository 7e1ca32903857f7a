using System.Diagnostics;
using System.Runtime.CompilerServices;
using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// A fault scenario on the real RabbitMQ and PostgreSQL: a gateway of its own (vhost and database), roles that run as
/// separate <c>triage</c> processes when a test kills one, a subscriber of <c>triage.completed.json</c>, and the
/// count of how every accepted failure ended. One scenario at a time on this machine, whichever process runs it.
/// </summary>
public abstract class ChaosTest(ITestOutputHelper output) : DistributedGatewayTest, IAsyncLifetime
{
    private readonly Stopwatch clock = new();
    private MachineWideLock? machine;
    private string scenarioConfiguration = string.Empty;
    private RoleProcesses? processes;

    protected ITestOutputHelper Output => output;

    async Task IAsyncLifetime.InitializeAsync()
    {
        machine = await MachineWideLock.AcquireAsync(TimeSpan.FromMinutes(15));
        try
        {
            await InitializeAsync();
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        try
        {
            await DisposeAsync();
        }
        finally
        {
            machine?.Dispose();
        }
    }

    /// <summary>The scenario's providers and routes; the bus, store, cache and auth sections are added for it.</summary>
    protected abstract Task<string> ScenarioConfigurationAsync();

    protected sealed override async Task<string> ConfigurationAsync()
    {
        scenarioConfiguration = await ScenarioConfigurationAsync();
        clock.Start();
        return scenarioConfiguration;
    }

    /// <summary>Since the gateway started, or since the test last called <see cref="RestartClock"/>.</summary>
    protected TimeSpan Elapsed => clock.Elapsed;

    protected void RestartClock() => clock.Restart();

    /// <summary>The roles this test runs as processes, on the gateway's broker and database.</summary>
    protected async Task<RoleProcesses> ProcessesAsync()
    {
        if (processes is null)
        {
            processes = await OwnAsync(Task.FromResult(new RoleProcesses(FullConfiguration(scenarioConfiguration), output)));
        }

        return processes;
    }

    /// <summary>triage.yaml as <see cref="DistributedGatewayTest"/> completes it, for a process of the same gateway.</summary>
    protected string FullConfiguration(string scenario) => $"""
        {scenario}
        bus:
          rabbitmq: "{Broker.Uri}"
        store:
          postgres: "{Database.ConnectionString}"
        cache:
          semantic: {"{"} enabled: {(SemanticCache ? "true" : "false")} {"}"}
        auth:
          required: {(RequireKeys ? "true" : "false")}
        """;

    /// <summary>Counts how the accepted failures ended, from the store and from the subscriber, once they settled.</summary>
    protected async Task<(ReliabilityRow Row, IReadOnlyDictionary<string, StoredOutcome> Store)> CountAsync(
        string scenario,
        int published,
        IReadOnlyCollection<string> accepted,
        CompletedEvents events,
        TimeSpan settle,
        [CallerMemberName] string test = "")
    {
        var store = await StoredOutcomes.WaitForSettledAsync(Database, accepted, settle);
        var completed = accepted.Where(id => store.TryGetValue(id, out var o) && o.Result is not null).ToList();
        var heard = await events.WaitForAsync(completed, TimeSpan.FromSeconds(20));
        var waiting = await StoredOutcomes.WaitingDeadLettersAsync(Database);
        var row = ReliabilityRow.Count(scenario, $"{GetType().FullName}.{test}", published, accepted, store, heard, waiting, Elapsed);

        // Where unsettled failures wait, and whether anything reads there: messages/consumers of each queue that matters.
        row.With("queuesAtTheEnd", await QueueStates.DescribeAsync(Broker));
        return (row, store);
    }

    protected void Report(ReliabilityRow row) => output.WriteLine(row.Write());

    /// <summary>What killing a role under a steady load left: the answers, how they ended, and how long the role was away.</summary>
    protected sealed record KilledUnderLoad(
        IReadOnlyList<PostedFailure> Posted,
        IReadOnlyList<string> Accepted,
        ReliabilityRow Row,
        IReadOnlyDictionary<string, StoredOutcome> Store,
        TimeSpan Down);

    /// <summary>
    /// Starts <paramref name="role"/> as a process, posts <paramref name="count"/> failures (ids from <paramref name="prefix"/>) at <paramref name="perSecond"/>,
    /// SIGKILLs the role four seconds in (<paramref name="atKill"/> sees the moment just before), runs
    /// <paramref name="whileDown"/>, starts the role again, and counts how every accepted failure ended.
    /// </summary>
    protected async Task<KilledUnderLoad> KillUnderLoadAsync(
        string scenario,
        string role,
        string prefix,
        int count,
        int perSecond,
        Action<DateTimeOffset>? atKill = null,
        Func<Task>? whileDown = null,
        [CallerMemberName] string test = "")
    {
        var processes = await ProcessesAsync();
        await processes.StartAsync(role);
        var events = await CompletedEvents.BindAsync(Broker.Uri);
        RestartClock();
        var load = SteadyLoad.PostAsync(Gateway.Http, SteadyLoad.Failures(prefix, count), perSecond);

        await Task.Delay(TimeSpan.FromSeconds(4));
        var killedAt = DateTimeOffset.UtcNow;
        atKill?.Invoke(killedAt);
        await processes.KillAsync(role);
        if (whileDown is not null)
        {
            await whileDown();
        }

        await processes.StartAsync(role);
        var down = DateTimeOffset.UtcNow - killedAt;

        var posted = await load;
        var accepted = posted.Where(p => p.Accepted).Select(p => p.EventId).ToList();
        var (row, store) = await CountAsync(scenario, posted.Count, accepted, events, TimeSpan.FromSeconds(120), test);
        return new KilledUnderLoad(posted, accepted, row, store, down);
    }

    /// <summary>Answers by HTTP status ("202", "503", "0" for no answer), for the row's details.</summary>
    protected static string Answers(IEnumerable<PostedFailure> posted) =>
        string.Join(" ", posted.GroupBy(p => p.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}"));

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    protected static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}

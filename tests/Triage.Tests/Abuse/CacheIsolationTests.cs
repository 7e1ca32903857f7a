using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Triage.Contracts;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Abuse;

/// <summary>
/// The semantic cache, scoped by repository (the default): one repository's triage is never another's answer, however
/// alike their failures, while a rerun in the same repository is.
/// </summary>
public sealed class CacheIsolationTests : IAsyncLifetime
{
    private GatewayUnderTest gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayUnderTest.StartAsync("""
        cache:
          semantic: { enabled: true, cache_builtin: true }
        """);

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task The_same_failure_in_another_repository_is_triaged_afresh_and_a_rerun_in_the_first_is_a_hit()
    {
        var first = await TriageAsync("acme/x");
        var elsewhere = await TriageAsync("acme/y");
        var rerun = await TriageAsync("acme/x");

        Assert.Null(first.Cache);
        Assert.Null(elsewhere.Cache);
        Assert.NotNull(rerun.Cache);
        Assert.True(rerun.Cache.Hit);
        Assert.Equal(first.EventId, rerun.Cache.SourceTriageId);
    }

    /// <summary>The compile error sample under a new event id, for <paramref name="repository"/>, and its triage.</summary>
    private async Task<TriageCompleted> TriageAsync(string repository)
    {
        var document = Samples.CompileError();
        document["repository"] = repository;
        using var response = await gateway.Http.PostAsync("/v1/build-failures?wait=20s", JsonContent.Create(document));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TriageCompleted>(Http.Json))!;
    }
}

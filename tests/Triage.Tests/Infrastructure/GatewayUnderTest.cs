using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Triage.Host.Hosting;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Tests.Infrastructure;

/// <summary>A gateway with every role, in this process, on a free port of 127.0.0.1.</summary>
public sealed class GatewayUnderTest : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string? directory;

    private GatewayUnderTest(WebApplication app, string? directory)
    {
        this.app = app;
        this.directory = directory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public HttpClient Http { get; }

    public ITriageStore Store => app.Services.GetRequiredService<ITriageStore>();

    public IServiceProvider Services => app.Services;

    /// <summary>Starts a gateway from triage.yaml text; with none, the embedded defaults on a fresh SQLite file.</summary>
    public static async Task<GatewayUnderTest> StartAsync(string? yaml = null, IDictionary<string, string?>? overrides = null, HostSettings? settings = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "triage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "triage.yaml");
        await File.WriteAllTextAsync(path, yaml ?? string.Empty);
        var options = TriageConfiguration.Load(path, overrides);
        var app = TriageApplication.Build(options, settings ?? HostSettings.All("http://127.0.0.1:0"));
        await TriageApplication.StartAsync(app, CancellationToken.None);
        return new GatewayUnderTest(app, directory);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (directory is not null)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

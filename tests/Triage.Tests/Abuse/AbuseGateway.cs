using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Abuse;

/// <summary>
/// The embedded gateway hostile input is sent to: keys required (the team key is the client's default), the admin key
/// set, and the three webhooks configured and charged to the team's key, so that every input reaches the reading of
/// its body.
/// </summary>
public sealed class AbuseGateway : IAsyncLifetime
{
    public const string AdminKey = "abuse-admin-key-0123456789abcdef";
    public const string JenkinsToken = "abuse-jenkins-token-5f0c9e7a41d2";
    public const string GitHubSecret = "abuse-github-secret-8b3e1c6d90fa";
    public const string GitLabToken = "abuse-gitlab-token-27d4a1f3c8e6";

    private string directory = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public HttpClient Http => Gateway.Http;

    /// <summary>The team's virtual key, sent with every request unless a request says otherwise.</summary>
    public string TeamSecret { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        directory = Path.Combine(Path.GetTempPath(), "triage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "abuse.db");
        var database = TriageDatabase.From(new StoreOptions { Sqlite = file }, directory);
        await database.MigrateAsync(CancellationToken.None);
        var issued = await new VirtualKeyStore(database, TimeProvider.System).CreateAsync(new KeySpec("abusers"), CancellationToken.None);
        TeamSecret = issued.Secret;
        Gateway = await GatewayUnderTest.StartAsync($$"""
            store: { sqlite: "{{file}}" }
            auth: { required: true, admin_key: "{{AdminKey}}" }
            webhooks:
              jenkins: { token: "{{JenkinsToken}}", key_id: {{issued.Key.Id}} }
              github: { secret: "{{GitHubSecret}}", key_id: {{issued.Key.Id}} }
              gitlab: { token: "{{GitLabToken}}", key_id: {{issued.Key.Id}} }
            """);
        Gateway.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TeamSecret);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>What a request can leave behind: triages, dead letters, charges and keys, counted in the store.</summary>
    public async Task<Footprint> FootprintAsync()
    {
        await using var db = Gateway.Services.GetRequiredService<TriageDatabase>().CreateContext();
        return new Footprint(
            await db.Triages.CountAsync(),
            await db.DeadLetters.CountAsync(),
            await db.Charges.CountAsync(),
            await db.VirtualKeys.CountAsync());
    }

    /// <summary>As GitHub signs a delivery: HMAC-SHA256 of the exact bytes sent, keyed with the webhook's secret.</summary>
    public static string Sign(byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(GitHubSecret), body));
}

public sealed record Footprint(int Triages, int DeadLetters, int Charges, int Keys);

using Triage.Platform.Configuration;

namespace Triage.Tests.Unit;

public sealed class ConfigurationTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("triage-config-").FullName;

    [Fact]
    public void Without_a_file_the_default_route_goes_to_the_builtin_triager()
    {
        var options = TriageConfiguration.Load(path: null, environment: new Dictionary<string, string?>());

        Assert.Equal(ProviderType.Builtin, options.Providers["builtin"].Type);
        Assert.Equal(["builtin"], options.Routing[TriageOptions.DefaultRoute].Providers);
    }

    [Fact]
    public void Environment_references_are_expanded_and_snake_case_keys_bind()
    {
        var options = Load("""
            providers:
              local: { type: openai-compatible, base_url: "http://127.0.0.1:9/v1", model: m, api_key: "${TRIAGE_TEST_KEY_1}", capacity: 3, timeout_ms: 1500 }
              fallback: { type: builtin, weight: 0 }
            routing:
              build_triage: { providers: [local, fallback], failover: true, timeout_ms: 8000 }
            cache:
              semantic: { similarity_threshold: 0.9, ttl_seconds: 60 }
            store:
              sqlite: "${TRIAGE_TEST_UNSET_VARIABLE:-custom.db}"
            """,
            new Dictionary<string, string?> { ["TRIAGE_TEST_KEY_1"] = "sk-from-env" });

        Assert.Equal("sk-from-env", options.Providers["local"].ApiKey);
        Assert.Equal(3, options.Providers["local"].Capacity);
        Assert.Equal(1500, options.Providers["local"].TimeoutMs);
        Assert.Equal(0, options.Providers["fallback"].Weight);
        Assert.Equal(["local", "fallback"], options.Routing["build_triage"].Providers);
        Assert.Equal(8000, options.Routing["build_triage"].TimeoutMs);
        Assert.Equal(0.9, options.Cache.Semantic.SimilarityThreshold);
        Assert.Equal("custom.db", options.Store.Sqlite);
        Assert.Equal(directory, options.BaseDirectory);
    }

    [Fact]
    public void An_unset_environment_variable_is_an_error_naming_file_line_and_key()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("""
            providers:
              main:
                type: openai
                api_key: ${TRIAGE_TEST_SURELY_UNSET}
            """));

        var message = Assert.Single(error.Errors);
        Assert.Contains("triage.yaml:4:", message);
        Assert.Contains("providers.main.api_key", message);
        Assert.Contains("TRIAGE_TEST_SURELY_UNSET", message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_line()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("""
            providers:
              a: { type: gpt, capacity: 0 }
              b: { type: openai-compatible, model: m, base_url: "not a url" }
            routing:
              build_triage: { providers: [a, nowhere] }
            cache:
              semantic: { similarity_threshold: 1.5 }
            bus:
              rabbitmq: "http://user:secret@broker"
            """));

        Assert.Contains(error.Errors, e => e.Contains("triage.yaml:2: providers.a.type") && e.Contains("'gpt' is not a provider type"));
        Assert.Contains(error.Errors, e => e.Contains("providers.a.capacity"));
        Assert.Contains(error.Errors, e => e.Contains("triage.yaml:3: providers.b.base_url"));
        Assert.Contains(error.Errors, e => e.Contains("triage.yaml:5: routing.build_triage.providers") && e.Contains("'nowhere'"));
        Assert.Contains(error.Errors, e => e.Contains("cache.semantic.similarity_threshold"));
        Assert.Contains(error.Errors, e => e.Contains("bus.rabbitmq") && !e.Contains("secret"));
    }

    [Fact]
    public void A_misspelt_key_is_an_error_rather_than_silently_ignored()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("""
            provders:
              a: { type: builtin }
            """));

        Assert.Contains(error.Errors, e => e.Contains("triage.yaml:1: provders") && e.Contains("unknown section"));
    }

    [Fact]
    public void A_value_of_the_wrong_type_names_its_key()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("""
            providers:
              a: { type: builtin, capacity: lots }
            """));

        Assert.Contains(error.Errors, e => e.Contains("providers.a.capacity") && e.Contains("triage.yaml:2"));
    }

    [Fact]
    public void Environment_variables_override_the_file()
    {
        var options = Load(
            "store: { sqlite: x.db }",
            new Dictionary<string, string?> { ["TRIAGE_STORE__POSTGRES"] = "Host=db;Database=triage", ["OTHER__STORE__SQLITE"] = "no.db" });

        Assert.Equal("Host=db;Database=triage", options.Store.Postgres);
        Assert.Equal("x.db", options.Store.Sqlite);
    }

    private TriageOptions Load(string yaml, Dictionary<string, string?>? environment = null)
    {
        var path = Path.Combine(directory, "triage.yaml");
        File.WriteAllText(path, yaml);
        return TriageConfiguration.Load(path, environment: environment ?? []);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

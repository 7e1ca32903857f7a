using System.Text;
using Triage.Platform.Redaction;

namespace Triage.Tests.Unit;

public sealed class SecretRedactorTests
{
    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string UpperAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string Base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private static readonly SecretRedactor Redactor = new();

    // Every value is made up here, and assembled at run time so that no secret scanner mistakes this file for a leak.
    private static readonly string GitHubPat = Fake("github_pat_", 22) + "_" + Fake("", 59, seed: 5);
    private static readonly string SlackBotToken = "xoxb-" + "123456789012-1234567890123-" + Fake("", 24);
    private static readonly string Jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS1ib3QiLCJleHAiOjE3MDAwMDAwMDB9." + Fake("", 43, seed: 11);

    public static TheoryData<string, string, string> Secrets => new()
    {
        { "aws-access-key", "export AWS_ACCESS_KEY_ID={0} # from the vault", Fake("AKIA", 16, UpperAlphanumeric) },
        { "aws-access-key", "Assumed role ci-deploy: access key {0}, expires 2026-03-01T13:00:00Z", Fake("ASIA", 16, UpperAlphanumeric, seed: 3) },
        { "aws-secret-key", "aws_secret_access_key = {0}", Fake("", 40, Base64) },
        { "aws-secret-key", "  \"SecretAccessKey\": \"{0}\",", Fake("", 40, Base64, seed: 9) },
        { "github-token", "remote: Using token {0} for github.com", Fake("ghp_", 36) },
        { "github-token", "oauth token {0} refreshed", Fake("gho_", 36, seed: 2) },
        { "github-token", "user-to-server token {0} issued", Fake("ghu_", 36, seed: 3) },
        { "github-token", "installation token {0} expires in 1h", Fake("ghs_", 36, seed: 4) },
        { "github-token", "refresh token {0} rotated", Fake("ghr_", 36, seed: 6) },
        { "github-token", "Configured fine-grained token {0} for the release job", GitHubPat },
        { "gitlab-token", "Using personal access token {0} to push tags", Fake("glpat-", 20) },
        { "slack-token", "Posting with {0} to #builds", SlackBotToken },
        { "slack-token", "user token {0} used", "xoxp-" + "123456789012-1234567890123-" + Fake("", 32, seed: 2) },
        { "slack-token", "app token {0} used", "xoxa-" + "2-" + Fake("", 30, seed: 3) },
        { "slack-token", "refresh token {0} used", "xoxr-" + Fake("", 30, seed: 4) },
        { "slack-token", "session token {0} used", "xoxs-" + "123456789012-" + Fake("", 30, seed: 6) },
        { "slack-webhook", "curl -X POST https://hooks.slack.com/services/{0} -d @payload.json", "T00000000/B00000000/" + Fake("", 24) },
        { "jwt", "Received OIDC id token {0} from https://token.actions.githubusercontent.com", Jwt },
        { "password", "fatal: unable to access 'https://deploy:{0}@git.example.com/org/app.git/': The requested URL returned error: 403", "Pa55w0rd-ci" },
        { "password", "DB_PASSWORD={0}", "Sup3r-S3cret!" },
        { "password", "PASSWORD = {0}", "correct-horse-battery" },
        { "password", "Connecting with passwd: '{0}'", "qwerty 123" },
        { "password", "export DB_PWD={0}", "pg-pass-42" },
        { "password", "Request body: {{\"username\": \"ci\", \"password\": \"{0}\"}}", "hunter2" },
        { "password", "config: {{\\\"password\\\":\\\"{0}\\\"}}", "escaped-in-json" },
        { "password", "spring.datasource.url=jdbc:postgresql://db:5432/app?user=app&password={0}&ssl=true", "jdbcS3cret" },
        { "secret", "client_secret={0}", Fake("", 32, seed: 8) },
        { "secret", "SECRET_KEY: {0}", Fake("", 50, seed: 12) },
        { "token", "Exchanging code: access_token={0}&expires_in=3600", Fake("", 40, seed: 13) },
        { "token", "SONAR_TOKEN: {0}", Fake("", 40, seed: 14) },
        { "api-key", "api_key={0}", Fake("", 32, seed: 15) },
        { "api-key", "X-Api-Key: {0}", Fake("", 32, seed: 16) },
        { "api-key", "  apikey: \"{0}\"", Fake("", 32, seed: 17) },
        { "bearer-token", "curl -H \"Authorization: Bearer {0}\" https://api.example.com/v1/builds", Fake("", 40, seed: 18) },
        { "basic-auth", "> Authorization: Basic {0}", "Y2ktYm90OmZha2UtcGFzcw==" },
        { "npm-token", "//registry.npmjs.org/:_authToken={0}", Fake("npm_", 36) },
        { "openai-key", "Using OpenAI key {0} for embeddings", Fake("sk-", 48) + "T3BlbkFJ" },
        { "openai-key", "Using project key {0}", Fake("sk-proj-", 80, seed: 19) + "-_x" },
        { "anthropic-key", "Calling the model with {0}", Fake("sk-ant-api03-", 93, seed: 20) + "AA" },
        { "google-api-key", "GET https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={0} 200", Fake("AIza", 35, seed: 21) },
        { "stripe-key", "STRIPE_LIVE={0} loaded", Fake("sk_live_", 24) },
        { "stripe-key", "restricted key {0} loaded", Fake("rk_live_", 24, seed: 22) },
        { "private-key", "Writing deploy key\n{0}\nKey written to ~/.ssh/id_rsa", PrivateKey("RSA ") },
    };

    [Fact]
    public void Redacts_a_GitHub_token_and_counts_it()
    {
        var token = Fake("ghp_", 36);

        var result = Redactor.Redact($"git remote set-url origin https://github.com/acme/app.git using {token}");

        Assert.Equal("git remote set-url origin https://github.com/acme/app.git using [REDACTED:github-token]", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Redacts_each_kind_of_secret_and_keeps_the_line_around_it(string kind, string line, string secret)
    {
        var log = string.Format(line, secret);

        var result = Redactor.Redact(log);

        Assert.DoesNotContain(secret, result.Text);
        Assert.Equal(string.Format(line, $"[REDACTED:{kind}]"), result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Keeps_the_user_of_a_URL_and_redacts_its_password()
    {
        var result = Redactor.Redact("https://user:pass@host");

        Assert.Equal("https://user:[REDACTED:password]@host", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Redacts_the_password_of_a_URL_without_a_user()
    {
        var result = Redactor.Redact("Connecting to redis://:r3dis-pass@cache:6379/0");

        Assert.Equal("Connecting to redis://:[REDACTED:password]@cache:6379/0", result.Text);
    }

    [Fact]
    public void Redacts_all_of_a_URL_password_that_holds_an_unencoded_at_sign()
    {
        var result = Redactor.Redact("git clone https://ci:p@ssw0rd@git.example.com/org/app.git");

        Assert.Equal("git clone https://ci:[REDACTED:password]@git.example.com/org/app.git", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Keeps_the_key_of_an_assignment_and_redacts_its_value()
    {
        var result = Redactor.Redact("password=hunter2");

        Assert.Equal("password=[REDACTED:password]", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Keeps_the_scheme_of_an_Authorization_header()
    {
        var result = Redactor.Redact("Authorization: Bearer abc");

        Assert.Equal("Authorization: Bearer [REDACTED:bearer-token]", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Names_a_token_inside_an_assignment_or_a_URL_by_its_kind_and_counts_it_once()
    {
        var token = Fake("ghs_", 36);

        var result = Redactor.Redact($"GITHUB_TOKEN={token}\ngit push https://x-access-token:{token}@github.com/acme/app.git");

        Assert.Equal("GITHUB_TOKEN=[REDACTED:github-token]\ngit push https://x-access-token:[REDACTED:github-token]@github.com/acme/app.git", result.Text);
        Assert.Equal(2, result.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("RSA ")]
    [InlineData("EC ")]
    [InlineData("OPENSSH ")]
    [InlineData("ENCRYPTED ")]
    [InlineData("DSA ")]
    public void Redacts_a_private_key_block_across_its_lines(string label)
    {
        var key = PrivateKey(label);

        var result = Redactor.Redact($"$ cat deploy.pem\n{key}\n$ chmod 600 deploy.pem\n");

        Assert.Equal("$ cat deploy.pem\n[REDACTED:private-key]\n$ chmod 600 deploy.pem\n", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Redacts_a_private_key_with_Windows_line_endings()
    {
        var key = PrivateKey("EC ").Replace("\n", "\r\n", StringComparison.Ordinal);

        var result = Redactor.Redact($"type key.pem\r\n{key}\r\nDone.\r\n");

        Assert.Equal("type key.pem\r\n[REDACTED:private-key]\r\nDone.\r\n", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Redacts_a_private_key_escaped_on_one_line_of_JSON()
    {
        var key = PrivateKey("").Replace("\n", "\\n", StringComparison.Ordinal);

        var result = Redactor.Redact($"{{\"type\": \"service_account\", \"private_key\": \"{key}\\n\", \"client_email\": \"ci@example.iam.gserviceaccount.com\"}}");

        Assert.Equal("{\"type\": \"service_account\", \"private_key\": \"[REDACTED:private-key]\\n\", \"client_email\": \"ci@example.iam.gserviceaccount.com\"}", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Redacts_the_body_of_a_private_key_whose_end_was_cut_off()
    {
        var lines = PrivateKey("RSA ").Split('\n');
        var truncated = string.Join('\n', lines[..^2]);

        var result = Redactor.Redact($"Setting up SSH\n{truncated}\n##[error]The operation was canceled.");

        Assert.Equal("Setting up SSH\n[REDACTED:private-key]\n##[error]The operation was canceled.", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Redacts_the_body_of_a_private_key_whose_beginning_was_cut_off()
    {
        var lines = PrivateKey("OPENSSH ").Split('\n');
        var truncated = string.Join('\n', lines[2..]);

        var result = Redactor.Redact($"[log truncated]\n{truncated}\nssh-add: identity added");

        Assert.Equal("[log truncated]\n[REDACTED:private-key]\nssh-add: identity added", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Redacts_matches_of_configured_patterns_as_custom()
    {
        var redactor = new SecretRedactor([@"ACME-[0-9]{8}", @"employee-id=(?<secret>\d+)"]);

        var result = redactor.Redact("license ACME-12345678 accepted for employee-id=4711");

        Assert.Equal("license [REDACTED:custom] accepted for employee-id=[REDACTED:custom]", result.Text);
        Assert.Equal(2, result.Count);
    }

    [Fact]
    public void Accepts_configured_patterns_that_need_lookarounds()
    {
        var redactor = new SecretRedactor([@"(?<=internal-key:)\w+"]);

        var result = redactor.Redact("internal-key:abc123 loaded");

        Assert.Equal("internal-key:[REDACTED:custom] loaded", result.Text);
        Assert.Equal(1, result.Count);
    }

    [Theory]
    [InlineData("ACME-[0-9")]
    [InlineData("(?<secret>unclosed")]
    [InlineData("")]
    public void Rejects_an_invalid_configured_pattern_and_names_it(string pattern)
    {
        var error = Assert.Throws<ArgumentException>(() => new SecretRedactor(["ok-[0-9]+", pattern]));

        Assert.Contains($"\"{pattern}\"", error.Message);
    }

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Redacting_twice_changes_nothing_the_second_time(string kind, string line, string secret)
    {
        var once = Redactor.Redact(string.Format(line, secret));

        var twice = Redactor.Redact(once.Text);

        Assert.Contains($"[REDACTED:{kind}]", once.Text);
        Assert.Equal(once.Text, twice.Text);
        Assert.Equal(0, twice.Count);
    }

    [Theory]
    [InlineData("HEAD is now at 3f786850e387550fdab836ed7e6dc881de23001b Merge pull request #42 from acme/fix-build")]
    [InlineData("Build 123e4567-e89b-12d3-a456-426614174000 started on runner ubuntu-22.04")]
    [InlineData("2026-03-01T12:34:56.7890123Z ##[group]Run actions/checkout@v4")]
    [InlineData("[12:34:56] the token expired, requesting a new one")]
    [InlineData("Token refresh failed: the token has expired")]
    [InlineData("[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/apache/commons/commons-lang3/3.14.0/commons-lang3-3.14.0.pom")]
    [InlineData("[INFO] +- org.springframework:spring-core:jar:6.1.4:compile")]
    [InlineData("[INFO] --- maven-surefire-plugin:3.2.5:test (default-test) @ app ---")]
    [InlineData("/home/runner/work/app/app/src/Auth/TokenValidator.cs(42,17): error CS0103: The name 'token' does not exist in the current context")]
    [InlineData("FATAL:  password authentication failed for user \"postgres\"")]
    [InlineData("password: ****")]
    [InlineData("  token: ***")]
    [InlineData("password=")]
    [InlineData("password=\"\"")]
    [InlineData("{\"token\": null, \"password\": \"\"}")]
    [InlineData("DB_PASSWORD: [MASKED]")]
    [InlineData("password=[REDACTED:password]")]
    [InlineData("Authorization: Bearer ***")]
    [InlineData("Authorization: Bearer [REDACTED:bearer-token]")]
    [InlineData("--password=$DB_PASSWORD --token ${{ secrets.NPM_TOKEN }}")]
    [InlineData("PWD=/home/runner/work/app/app")]
    [InlineData("OLDPWD=/home/runner")]
    [InlineData("max_tokens=256 temperature=0.2")]
    [InlineData("secretName: db-credentials")]
    [InlineData("Pulling node@sha256:4c2e5e8c7d1f3a9b0e6d2c4a8f1b3e5d7c9a0b2d4f6e8a1c3b5d7f9e0a2c4b6d8")]
    [InlineData("Listening on http://localhost:8080/health, mail admin@example.com")]
    [InlineData("git@github.com:acme/app.git")]
    public void Leaves_ordinary_log_lines_alone(string line)
    {
        var result = Redactor.Redact(line);

        Assert.Equal(line, result.Text);
        Assert.Equal(0, result.Count);
    }

    [Fact]
    public void Counts_each_secret_in_a_text_separately()
    {
        var accessKey = Fake("AKIA", 16, UpperAlphanumeric);
        var token = Fake("ghp_", 36);
        var log = $"""
            Run ./deploy.sh
            export AWS_ACCESS_KEY_ID={accessKey}
            git clone https://ci:{token}@github.com/acme/app.git
            psql "host=db password=hunter2 dbname=app"
            retrying with {token}
            """;

        var result = Redactor.Redact(log);

        Assert.Equal("""
            Run ./deploy.sh
            export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]
            git clone https://ci:[REDACTED:github-token]@github.com/acme/app.git
            psql "host=db password=[REDACTED:password] dbname=app"
            retrying with [REDACTED:github-token]
            """, result.Text);
        Assert.Equal(4, result.Count);
    }

    [Fact]
    public void Leaves_text_without_secrets_as_it_was()
    {
        var log = "Restore complete (1.2s)\n  Triage.Platform succeeded (3.4s)\nBuild succeeded in 5.0s";

        var result = Redactor.Redact(log);

        Assert.Same(log, result.Text);
        Assert.Equal(0, result.Count);
    }

    // Each of these would take minutes on a pattern that backtracks; here the match timeout would throw instead.
    [Theory]
    [InlineData("eyJa-")]
    [InlineData("password=\"a ")]
    [InlineData("https://")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\n")]
    [InlineData("-----END PRIVATE KEY-----\n")]
    [InlineData("AKIA")]
    [InlineData("ghp_a")]
    [InlineData("Authorization: Bearer ")]
    public void Redacts_a_pathological_log_without_running_out_of_time(string unit)
    {
        var log = new StringBuilder(1_000_000 + unit.Length);
        while (log.Length < 1_000_000)
        {
            log.Append(unit);
        }

        var result = Redactor.Redact(log.ToString());

        Assert.NotNull(result.Text);
    }

    private static string Fake(string prefix, int length, string alphabet = Alphanumeric, int seed = 1)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[(i * 7 + seed * 13) % alphabet.Length];
        }

        return prefix + new string(chars);
    }

    private static string PrivateKey(string label)
    {
        var body = Enumerable.Range(0, 6).Select(i => Fake("", 64, Base64, seed: i + 30)).Append(Fake("", 20, Base64) + "==");
        return $"-----BEGIN {label}PRIVATE KEY-----\n{string.Join('\n', body)}\n-----END {label}PRIVATE KEY-----";
    }
}

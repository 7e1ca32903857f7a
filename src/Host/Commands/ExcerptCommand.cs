using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Triage.Platform.Redaction;
using Triage.Router.Cache;
using Triage.Router.Excerpts;

namespace Triage.Host.Commands;

/// <summary>
/// <c>triage excerpt LOG</c>: what the router makes of one build log, without a gateway: the redacted excerpt a
/// provider would see, its focus, and the fingerprint and identity the cache compares. The way to learn why two
/// failures did or did not share a triage.
/// </summary>
internal static class ExcerptCommand
{
    public static Command Create()
    {
        var config = TriageCommandLine.ConfigOption();
        var log = new Argument<string>("log") { Description = "The build log to read, or - for standard input." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command(
            "excerpt",
            "Show what the router makes of a build log: the redacted failure excerpt a provider sees, its focus, and the fingerprint and identity the cache compares.")
        {
            log, config, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await TriageCommandLine.LoadConfigurationAsync(parse.GetValue(config)) is not { } options)
            {
                return 2;
            }

            var path = parse.GetValue(log)!;
            string text;
            try
            {
                text = path == "-" ? await Console.In.ReadToEndAsync(cancellationToken) : await File.ReadAllTextAsync(path, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"{path}: {e.Message}");
                return 2;
            }

            var view = Describe(text, new SecretRedactor(options.Redaction.Patterns));
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(view, SnakeCase) : Table(view));
            return 0;
        });
        return command;
    }

    /// <summary>The router's steps, in its order: excerpt, redaction, focus, fingerprint and identity of the focus.</summary>
    internal static ExcerptView Describe(string log, SecretRedactor redactor)
    {
        var excerpt = FailureExcerpt.Extract(log);
        var redacted = redactor.Redact(excerpt.Text);
        var (fingerprint, identity) = FailureSignature.Describe(redacted.Text);
        return new ExcerptView(
            excerpt.LogLines,
            excerpt.SourceLines.Count,
            log.Length,
            redacted.Text.Length,
            redacted.Count,
            redacted.Text,
            FailureExcerpt.Focus(redacted.Text),
            fingerprint,
            new IdentityView(identity.Tests, identity.Exceptions, identity.Codes, identity.Files, identity.Messages));
    }

    private static string Table(ExcerptView view)
    {
        var text = new StringBuilder();
        text.AppendLine(view.LogLines == 0
            ? "The log is empty."
            : $"excerpt: {view.ExcerptLines} of {view.LogLines} lines, {view.ExcerptChars} of {view.LogChars} characters ({((double)view.ExcerptChars / Math.Max(1, view.LogChars)).ToString("0.0%", CultureInfo.InvariantCulture)}); {view.RedactedSecrets} secret(s) redacted");
        Section("excerpt (what a provider sees)", view.Excerpt);
        Section("focus (what the cache compares)", view.Focus);
        Section("fingerprint (the focus masked, what is embedded)", view.Fingerprint);
        text.AppendLine();
        text.AppendLine("identity (must match for a cached triage to be reused):");
        List("tests", view.Identity.Tests);
        List("exceptions", view.Identity.Exceptions);
        List("codes", view.Identity.Codes);
        List("files", view.Identity.Files);
        List("error lines", view.Identity.Messages);
        return text.ToString().TrimEnd();

        void Section(string title, string body)
        {
            text.AppendLine();
            text.AppendLine($"--- {title} ---");
            text.AppendLine(body.Length == 0 ? "(none)" : body);
        }

        void List(string name, IReadOnlyList<string> values)
        {
            text.AppendLine(values.Count == 0 ? $"  {name}: none" : $"  {name}:");
            foreach (var value in values)
            {
                text.AppendLine($"    {value}");
            }
        }
    }

    private static readonly JsonSerializerOptions SnakeCase = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

internal sealed record ExcerptView(
    int LogLines,
    int ExcerptLines,
    int LogChars,
    int ExcerptChars,
    int RedactedSecrets,
    string Excerpt,
    string Focus,
    string Fingerprint,
    IdentityView Identity);

internal sealed record IdentityView(
    IReadOnlyList<string> Tests,
    IReadOnlyList<string> Exceptions,
    IReadOnlyList<string> Codes,
    IReadOnlyList<string> Files,
    IReadOnlyList<string> Messages);

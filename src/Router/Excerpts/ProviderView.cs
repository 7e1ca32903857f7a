using Triage.Contracts;
using Triage.Platform.Redaction;

namespace Triage.Router.Excerpts;

/// <summary>
/// The failure as a provider may see it: the log cut to its failure excerpt, and every text the build sent
/// (excerpt, failing tests, build facts) with its secrets redacted, before it leaves the router.
/// </summary>
public static class ProviderView
{
    public static (BuildFailed Failure, int RedactedSecrets) Of(BuildFailed failure, SecretRedactor redactor)
    {
        var redacted = 0;
        var view = failure with
        {
            Log = Redact(failure.LogIsExcerpt ? failure.Log : FailureExcerpt.From(failure.Log))!,
            Job = Redact(failure.Job)!,
            Branch = Redact(failure.Branch),
            Stage = Redact(failure.Stage),
            BuildUrl = Redact(failure.BuildUrl),
            FailedTests = failure.FailedTests.Select(t => new FailedTest(Redact(t.Name)!, Redact(t.Message))).ToList(),
        };
        return (view, redacted);

        string? Redact(string? text)
        {
            if (text is null)
            {
                return null;
            }

            var result = redactor.Redact(text);
            redacted += result.Count;
            return result.Text;
        }
    }
}

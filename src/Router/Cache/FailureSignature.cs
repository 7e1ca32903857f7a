using Triage.Platform.Redaction;
using Triage.Router.Excerpts;

namespace Triage.Router.Cache;

/// <summary>
/// What the cache knows of a failure: its redacted excerpt, the fingerprint with run-to-run noise masked, the
/// identity evidence, and the embedding of the fingerprint. The router and <c>triage eval cache</c> both build it
/// here, so that the evaluation measures the pipeline that runs.
/// </summary>
public sealed record FailureSignature(string Excerpt, string Fingerprint, FailureIdentity Identity, float[] Vector)
{
    public static FailureSignature Of(string redactedExcerpt, HashedNgramEmbeddingGenerator embedder)
    {
        var fingerprint = FailureFingerprint.Of(redactedExcerpt);
        return new FailureSignature(redactedExcerpt, fingerprint, FailureIdentity.Of(redactedExcerpt), embedder.Embed(fingerprint));
    }

    public static FailureSignature FromLog(string log, SecretRedactor redactor, HashedNgramEmbeddingGenerator embedder) =>
        Of(redactor.Redact(FailureExcerpt.From(log)).Text, embedder);
}

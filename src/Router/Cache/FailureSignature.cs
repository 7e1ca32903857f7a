using Triage.Router.Excerpts;

namespace Triage.Router.Cache;

/// <summary>
/// What the cache knows of a failure: its redacted excerpt, and, of the excerpt's focus (the few lines that say
/// what failed, <see cref="FailureExcerpt.Focus"/>), the fingerprint with run-to-run noise masked, the identity
/// evidence and the embedding of the fingerprint. The router and <c>triage eval cache</c> both build it here, so
/// that the evaluation measures the pipeline that runs.
/// </summary>
public sealed record FailureSignature(string Excerpt, string Fingerprint, FailureIdentity Identity, float[] Vector)
{
    public static FailureSignature Of(string redactedExcerpt, HashedNgramEmbeddingGenerator embedder)
    {
        var (fingerprint, identity) = Describe(redactedExcerpt);
        return new(redactedExcerpt, fingerprint, identity, embedder.Embed(fingerprint));
    }

    /// <summary>The fingerprint an embedder turns into the vector, and the identity evidence, of an excerpt's focus.</summary>
    public static (string Fingerprint, FailureIdentity Identity) Describe(string redactedExcerpt)
    {
        var focus = FailureExcerpt.Focus(redactedExcerpt);
        return (FailureFingerprint.Of(focus), FailureIdentity.Of(focus));
    }
}

namespace Triage.Router.Cache;

/// <summary>
/// What the cache knows of a failure: its redacted excerpt, the fingerprint with run-to-run noise masked, the
/// identity evidence, and the embedding of the fingerprint. The router and <c>triage eval cache</c> both build it
/// here, so that the evaluation measures the pipeline that runs.
/// </summary>
public sealed record FailureSignature(string Excerpt, string Fingerprint, FailureIdentity Identity, float[] Vector)
{
    public static FailureSignature Of(string redactedExcerpt, HashedNgramEmbeddingGenerator embedder) =>
        Of(redactedExcerpt, FailureFingerprint.Of(redactedExcerpt), embedder.Embed);

    /// <param name="embed">Turns the fingerprint into a unit vector.</param>
    public static FailureSignature Of(string redactedExcerpt, string fingerprint, Func<string, float[]> embed) =>
        new(redactedExcerpt, fingerprint, FailureIdentity.Of(redactedExcerpt), embed(fingerprint));
}

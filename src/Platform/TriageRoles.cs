namespace Triage.Platform;

/// <summary>The roles one <c>triage</c> process can host; <c>triage run</c> hosts them all.</summary>
[Flags]
public enum TriageRoles
{
    None = 0,
    Ingest = 1,
    Router = 2,
    Workers = 4,
    All = Ingest | Router | Workers,
}

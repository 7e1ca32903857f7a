using Triage.Platform.Configuration;
using Triage.Router.Cache;

namespace Triage.Tests.Cache;

/// <summary>
/// The contract against a real Qdrant at QDRANT_URL (its gRPC port, e.g. http://127.0.0.1:6334; QDRANT_API_KEY when
/// it wants one). Each test makes collections of its own and drops them afterwards.
/// </summary>
public sealed class QdrantVectorIndexTests : VectorIndexContract
{
    private static readonly string? Url = Environment.GetEnvironmentVariable("QDRANT_URL");

    private QdrantVectorIndex? admin;

    protected override Task PrepareAsync()
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            throw new SkipException("skipped: QDRANT_URL is not set; point it at Qdrant's gRPC port (http://127.0.0.1:6334) to run the Qdrant contract.");
        }

        admin = New();
        return Task.CompletedTask;
    }

    protected override Task<IVectorIndex> CreateIndexAsync() => Task.FromResult<IVectorIndex>(New());

    protected override async Task CleanUpAsync()
    {
        if (admin is null)
        {
            return;
        }

        foreach (var name in new[] { Collection.Name, OtherCollectionName })
        {
            try
            {
                await admin.DeleteCollectionAsync(name, default);
            }
            catch (Grpc.Core.RpcException)
            {
                // Not every test makes both collections.
            }
        }

        admin.Dispose();
    }

    private static QdrantVectorIndex New() =>
        new(new QdrantOptions { Url = Url, ApiKey = Environment.GetEnvironmentVariable("QDRANT_API_KEY") });
}

public sealed class QdrantPointIdTests
{
    [Fact]
    public void Point_ids_are_the_same_for_the_same_entry_and_differ_between_entries_and_collections()
    {
        Assert.Equal(QdrantVectorIndex.PointId("c", "failure-1"), QdrantVectorIndex.PointId("c", "failure-1"));
        Assert.NotEqual(QdrantVectorIndex.PointId("c", "failure-1"), QdrantVectorIndex.PointId("c", "failure-2"));
        Assert.NotEqual(QdrantVectorIndex.PointId("c", "failure-1"), QdrantVectorIndex.PointId("d", "failure-1"));
    }
}

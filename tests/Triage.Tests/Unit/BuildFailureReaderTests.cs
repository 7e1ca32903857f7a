using System.Text;
using Triage.Ingest.BuildFailures;
using Triage.Platform.Configuration;

namespace Triage.Tests.Unit;

public sealed class BuildFailureReaderTests
{
    private static readonly TriageOptions Options = TriageConfiguration.Load(path: null);

    [Fact]
    public void A_valid_document_becomes_a_build_failure_with_a_derived_event_id()
    {
        var read = Read("""{"source":"jenkins","job":"a/b","buildNumber":42,"log":"boom","failedTests":[{"name":"T1","message":"m"}]}""");

        var failure = Assert.IsType<Triage.Contracts.BuildFailed>(read.Failure);
        Assert.Equal("42", failure.BuildNumber);
        Assert.Equal(TriageOptions.DefaultRoute, failure.Route);
        Assert.Equal(BuildFailureReader.DeriveEventId("jenkins", "a/b", "42"), failure.EventId);
        Assert.StartsWith("bf-", failure.EventId);
        Assert.Equal("T1", Assert.Single(failure.FailedTests).Name);
    }

    [Fact]
    public void The_derived_event_id_is_the_same_for_the_same_build_and_differs_for_another()
    {
        Assert.Equal(BuildFailureReader.DeriveEventId("jenkins", "a", "1"), BuildFailureReader.DeriveEventId("jenkins", "a", "1"));
        Assert.NotEqual(BuildFailureReader.DeriveEventId("jenkins", "a", "1"), BuildFailureReader.DeriveEventId("jenkins", "a", "2"));
        Assert.NotEqual(BuildFailureReader.DeriveEventId("jenkins", "a1", ""), BuildFailureReader.DeriveEventId("jenkins", "a", "1"));
    }

    [Theory]
    [InlineData("""{"job":"a","buildNumber":1,"log":""}""", "source")]
    [InlineData("""{"source":"s","buildNumber":1,"log":""}""", "job")]
    [InlineData("""{"source":"s","job":"a","log":""}""", "buildNumber")]
    [InlineData("""{"source":"s","job":"a","buildNumber":1}""", "log")]
    [InlineData("""{"source":"s","job":"a","buildNumber":true,"log":""}""", "buildNumber")]
    [InlineData("""{"source":"s","job":7,"buildNumber":1,"log":""}""", "job")]
    [InlineData("""{"source":"s","job":"a","buildNumber":1,"log":"","eventId":"has space"}""", "eventId")]
    [InlineData("""{"source":"s","job":"a","buildNumber":1,"log":"","buildUrl":"ftp://x"}""", "buildUrl")]
    [InlineData("""{"source":"s","job":"a","buildNumber":1,"log":"","failedTests":[{"message":"m"}]}""", "failedTests[0].name")]
    [InlineData("""{"source":"s","job":"a","buildNumber":1,"log":"", """, "$")]
    [InlineData("""[1,2]""", "$")]
    public void An_invalid_document_names_the_field(string json, string field)
    {
        var read = Read(json);

        Assert.Null(read.Failure);
        Assert.NotNull(read.Errors);
        Assert.Contains(field, read.Errors!.Keys);
    }

    [Fact]
    public void An_unknown_route_is_reported_with_the_known_ones()
    {
        var read = Read("""{"source":"s","job":"a","buildNumber":1,"log":"","route":"nightly"}""");

        Assert.Null(read.Failure);
        Assert.Equal("nightly", read.Route);
        Assert.Contains("build_triage", read.RouteError);
    }

    [Fact]
    public void Bytes_that_are_not_utf8_in_the_log_are_replaced_not_rejected()
    {
        var prefix = Encoding.UTF8.GetBytes("""{"source":"s","job":"a","buildNumber":1,"log":"bad """);
        var suffix = Encoding.UTF8.GetBytes(""" bytes"}""");
        byte[] body = [.. prefix, 0xC3, 0x28, 0xFF, .. suffix];

        var failure = BuildFailureReader.Read(body, Options, DateTimeOffset.UtcNow).Failure;

        Assert.NotNull(failure);
        Assert.Contains('\uFFFD', failure!.Log);
        Assert.StartsWith("bad ", failure.Log);
    }

    private static ReadResult Read(string json) => BuildFailureReader.Read(Encoding.UTF8.GetBytes(json), Options, DateTimeOffset.UtcNow);
}

using Microsoft.EntityFrameworkCore;

namespace Triage.Platform.Store;

/// <summary>
/// The store's model. Each database has its own derived context so that each keeps its own migrations
/// (PostgreSQL in production, SQLite embedded); the model itself is shared.
/// </summary>
public abstract class TriageDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TriageRecord> Triages => Set<TriageRecord>();

    public DbSet<CacheEntryRecord> CacheEntries => Set<CacheEntryRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TriageRecord>(triage =>
        {
            triage.ToTable("triages");
            triage.HasKey(t => t.EventId);
            triage.Property(t => t.EventId).HasColumnName("event_id").HasMaxLength(200);
            triage.Property(t => t.Route).HasColumnName("route").HasMaxLength(100);
            triage.Property(t => t.Source).HasColumnName("source").HasMaxLength(100);
            triage.Property(t => t.Job).HasColumnName("job").HasMaxLength(500);
            triage.Property(t => t.BuildNumber).HasColumnName("build_number").HasMaxLength(100);
            triage.Property(t => t.Repository).HasColumnName("repository").HasMaxLength(500);
            triage.Property(t => t.Status).HasColumnName("status").HasMaxLength(20);
            triage.Property(t => t.ReceivedAt).HasColumnName("received_at");
            triage.Property(t => t.CompletedAt).HasColumnName("completed_at");
            triage.Property(t => t.Category).HasColumnName("category").HasMaxLength(40);
            triage.Property(t => t.Provider).HasColumnName("provider").HasMaxLength(100);
            triage.Property(t => t.Model).HasColumnName("model").HasMaxLength(200);
            triage.Property(t => t.InputTokens).HasColumnName("input_tokens");
            triage.Property(t => t.OutputTokens).HasColumnName("output_tokens");
            triage.Property(t => t.CostUsd).HasColumnName("cost_usd").HasPrecision(18, 8);
            triage.Property(t => t.Result).HasColumnName("result");
            triage.Property(t => t.CacheExcerpt).HasColumnName("cache_excerpt");
            triage.HasIndex(t => t.ReceivedAt);
        });

        modelBuilder.Entity<CacheEntryRecord>(entry =>
        {
            entry.ToTable("cache_entries");
            entry.HasKey(e => new { e.Collection, e.Id });
            entry.Property(e => e.Collection).HasColumnName("collection").HasMaxLength(100);
            entry.Property(e => e.Id).HasColumnName("id").HasMaxLength(200);
            entry.Property(e => e.Scope).HasColumnName("scope").HasMaxLength(200);
            entry.Property(e => e.Vector).HasColumnName("vector");
            entry.Property(e => e.Dimensions).HasColumnName("dimensions");
            entry.Property(e => e.Identity).HasColumnName("identity");
            entry.Property(e => e.CreatedAt).HasColumnName("created_at")
                .HasConversion(at => at.ToUnixTimeMilliseconds(), ms => DateTimeOffset.FromUnixTimeMilliseconds(ms));
            entry.Property(e => e.Payload).HasColumnName("payload");
            entry.HasIndex(e => new { e.Collection, e.Scope });
            entry.HasIndex(e => e.CreatedAt);
        });
    }
}

public sealed class PostgresTriageDbContext(DbContextOptions<PostgresTriageDbContext> options) : TriageDbContext(options);

public sealed class SqliteTriageDbContext(DbContextOptions<SqliteTriageDbContext> options) : TriageDbContext(options);

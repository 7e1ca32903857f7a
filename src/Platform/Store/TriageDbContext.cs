using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Triage.Platform.DeadLetters;
using Triage.Platform.Keys;

namespace Triage.Platform.Store;

/// <summary>
/// The store's model. Each database has its own derived context so that each keeps its own migrations
/// (PostgreSQL in production, SQLite embedded); the model itself is shared.
/// </summary>
public abstract class TriageDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TriageRecord> Triages => Set<TriageRecord>();

    public DbSet<CacheEntryRecord> CacheEntries => Set<CacheEntryRecord>();

    public DbSet<VirtualKeyRecord> VirtualKeys => Set<VirtualKeyRecord>();

    public DbSet<KeySecretRecord> KeySecrets => Set<KeySecretRecord>();

    public DbSet<BudgetUsageRecord> BudgetUsage => Set<BudgetUsageRecord>();

    public DbSet<ChargeRecord> Charges => Set<ChargeRecord>();

    public DbSet<UsageRecord> Usage => Set<UsageRecord>();

    public DbSet<DeadLetterRecord> DeadLetters => Set<DeadLetterRecord>();

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
            triage.Property(t => t.Replays).HasColumnName("replays");
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
            entry.Property(e => e.CreatedAt).HasColumnName("created_at").UnixMilliseconds();
            entry.Property(e => e.Payload).HasColumnName("payload");
            entry.HasIndex(e => new { e.Collection, e.Scope });
            entry.HasIndex(e => e.CreatedAt);
        });

        OnKeysCreating(modelBuilder);

        modelBuilder.Entity<DeadLetterRecord>(dead =>
        {
            dead.ToTable("dead_letters");
            dead.HasKey(d => d.EventId);
            dead.Property(d => d.EventId).HasColumnName("event_id").HasMaxLength(200);
            dead.Property(d => d.Route).HasColumnName("route").HasMaxLength(100);
            dead.Property(d => d.GroupKey).HasColumnName("group_key").HasMaxLength(300);
            dead.Property(d => d.Reason).HasColumnName("reason").HasMaxLength(40);
            dead.Property(d => d.Detail).HasColumnName("detail");
            dead.Property(d => d.LastProvider).HasColumnName("last_provider").HasMaxLength(100);
            dead.Property(d => d.Attempts).HasColumnName("attempts");
            dead.Property(d => d.Failure).HasColumnName("failure");
            dead.Property(d => d.FirstFailedAt).HasColumnName("first_failed_at").UnixMilliseconds();
            dead.Property(d => d.LastFailedAt).HasColumnName("last_failed_at").UnixMilliseconds();
            dead.Property(d => d.TimesDeadLettered).HasColumnName("times_dead_lettered");
            dead.Property(d => d.Status).HasColumnName("status").HasMaxLength(10);
            dead.Property(d => d.ReplayCount).HasColumnName("replay_count");
            dead.Property(d => d.ReplayRun).HasColumnName("replay_run").HasMaxLength(40);
            dead.Property(d => d.ClaimedAt).HasColumnName("claimed_at").UnixMilliseconds();
            dead.Property(d => d.ReplayedAt).HasColumnName("replayed_at").UnixMilliseconds();
            dead.Property(d => d.ArchivedAt).HasColumnName("archived_at").UnixMilliseconds();
            dead.HasIndex(d => new { d.Status, d.GroupKey });
            dead.HasIndex(d => d.LastFailedAt);
            dead.HasIndex(d => d.ReplayRun);
        });
    }

    /// <summary>Virtual keys, their secrets' hashes, budgets, charges and usage. Raw SQL in <c>Keys/</c> names these columns.</summary>
    private static void OnKeysCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<VirtualKeyRecord>(key =>
        {
            key.ToTable("virtual_keys");
            key.HasKey(k => k.Id);
            key.Property(k => k.Id).HasColumnName("id").HasMaxLength(40);
            key.Property(k => k.Team).HasColumnName("team").HasMaxLength(100);
            key.Property(k => k.Routes).HasColumnName("routes").HasMaxLength(1000);
            key.Property(k => k.RequestsPerMinute).HasColumnName("rpm");
            key.Property(k => k.TokensPerMinute).HasColumnName("tpm");
            key.Property(k => k.BudgetMicros).HasColumnName("budget_micros");
            key.Property(k => k.BudgetPeriodName).HasColumnName("budget_period").HasMaxLength(10);
            key.Property(k => k.ExpiresAt).HasColumnName("expires_at").UnixMilliseconds();
            key.Property(k => k.CreatedAt).HasColumnName("created_at").UnixMilliseconds();
            key.Property(k => k.RevokedAt).HasColumnName("revoked_at").UnixMilliseconds();
            key.Property(k => k.RevokedReason).HasColumnName("revoked_reason").HasMaxLength(500);
            key.Property(k => k.RequestTat).HasColumnName("request_tat");
            key.Property(k => k.TokenTat).HasColumnName("token_tat");
            key.HasIndex(k => k.Team);
        });

        modelBuilder.Entity<KeySecretRecord>(secret =>
        {
            secret.ToTable("key_secrets");
            secret.HasKey(s => s.Hash);
            secret.Property(s => s.Hash).HasColumnName("hash").HasMaxLength(32);
            secret.Property(s => s.Prefix).HasColumnName("prefix").HasMaxLength(20);
            secret.Property(s => s.KeyId).HasColumnName("key_id").HasMaxLength(40);
            secret.Property(s => s.CreatedAt).HasColumnName("created_at").UnixMilliseconds();
            secret.Property(s => s.NotAfter).HasColumnName("not_after").UnixMilliseconds();
            secret.HasIndex(s => s.Prefix);
            secret.HasIndex(s => s.KeyId);
            secret.HasOne<VirtualKeyRecord>().WithMany().HasForeignKey(s => s.KeyId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<BudgetUsageRecord>(budget =>
        {
            budget.ToTable("budget_usage");
            budget.HasKey(b => new { b.KeyId, b.PeriodStart });
            budget.Property(b => b.KeyId).HasColumnName("key_id").HasMaxLength(40);
            budget.Property(b => b.PeriodStart).HasColumnName("period_start").UnixMilliseconds();
            budget.Property(b => b.ReservedMicros).HasColumnName("reserved_micros");
            budget.Property(b => b.SpentMicros).HasColumnName("spent_micros");
            budget.Property(b => b.SavedMicros).HasColumnName("saved_micros");
        });

        modelBuilder.Entity<ChargeRecord>(charge =>
        {
            charge.ToTable("charges");
            charge.HasKey(c => c.EventId);
            charge.Property(c => c.EventId).HasColumnName("event_id").HasMaxLength(200);
            charge.Property(c => c.KeyId).HasColumnName("key_id").HasMaxLength(40);
            charge.Property(c => c.Team).HasColumnName("team").HasMaxLength(100);
            charge.Property(c => c.PeriodStart).HasColumnName("period_start").UnixMilliseconds();
            charge.Property(c => c.ReservedMicros).HasColumnName("reserved_micros");
            charge.Property(c => c.ReservedTokens).HasColumnName("reserved_tokens");
            charge.Property(c => c.ChargedMicros).HasColumnName("charged_micros");
            charge.Property(c => c.State).HasColumnName("state").HasMaxLength(10);
            charge.Property(c => c.CreatedAt).HasColumnName("created_at").UnixMilliseconds();
            charge.Property(c => c.SettledAt).HasColumnName("settled_at").UnixMilliseconds();
            charge.HasIndex(c => new { c.KeyId, c.State });
        });

        modelBuilder.Entity<UsageRecord>(usage =>
        {
            usage.ToTable("usage_hourly");
            usage.HasKey(u => new { u.Hour, u.KeyId, u.Provider, u.Model });
            usage.Property(u => u.Hour).HasColumnName("hour").UnixMilliseconds();
            usage.Property(u => u.KeyId).HasColumnName("key_id").HasMaxLength(40);
            usage.Property(u => u.Team).HasColumnName("team").HasMaxLength(100);
            usage.Property(u => u.Provider).HasColumnName("provider").HasMaxLength(100);
            usage.Property(u => u.Model).HasColumnName("model").HasMaxLength(200);
            usage.Property(u => u.Triages).HasColumnName("triages");
            usage.Property(u => u.FailedAttempts).HasColumnName("failed_attempts");
            usage.Property(u => u.CacheHits).HasColumnName("cache_hits");
            usage.Property(u => u.InputTokens).HasColumnName("input_tokens");
            usage.Property(u => u.OutputTokens).HasColumnName("output_tokens");
            usage.Property(u => u.CostMicros).HasColumnName("cost_micros");
            usage.Property(u => u.SavedMicros).HasColumnName("saved_micros");
            usage.HasIndex(u => new { u.Team, u.Hour });
        });
    }
}

/// <summary>Instants as Unix milliseconds: SQLite keeps a <see cref="DateTimeOffset"/> as text, which does not compare by instant.</summary>
internal static class UnixMillisecondsConversion
{
    public static PropertyBuilder<DateTimeOffset> UnixMilliseconds(this PropertyBuilder<DateTimeOffset> property) =>
        property.HasConversion(at => at.ToUnixTimeMilliseconds(), ms => DateTimeOffset.FromUnixTimeMilliseconds(ms));

    public static PropertyBuilder<DateTimeOffset?> UnixMilliseconds(this PropertyBuilder<DateTimeOffset?> property) =>
        property.HasConversion(
            at => at.HasValue ? at.Value.ToUnixTimeMilliseconds() : (long?)null,
            ms => ms.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(ms.Value) : null);
}

public sealed class PostgresTriageDbContext(DbContextOptions<PostgresTriageDbContext> options) : TriageDbContext(options);

public sealed class SqliteTriageDbContext(DbContextOptions<SqliteTriageDbContext> options) : TriageDbContext(options);

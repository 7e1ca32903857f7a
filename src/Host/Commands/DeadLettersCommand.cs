using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Triage.Ingest.Apis;
using Triage.Platform.DeadLetters;

namespace Triage.Host.Commands;

/// <summary>
/// <c>triage dead-letters list|show|groups|archive</c>: the failures no provider could triage, straight in the store
/// the configuration names (<c>triage replay</c> sends them to the router again). Exit codes: 0 done, 1 no such dead
/// letter or no store, 2 bad input.
/// </summary>
internal static class DeadLettersCommand
{
    /// <summary>Lines of the failure's excerpt <c>show</c> prints; <c>--json</c> has all of it.</summary>
    private const int ExcerptLines = 20;

    public static Command Create()
    {
        var command = new Command("dead-letters", "List, group, show and archive the failures no provider could triage; 'triage replay' sends them again.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Groups());
        command.Subcommands.Add(Archive());
        return command;
    }

    private static Command List()
    {
        var config = TriageCommandLine.ConfigOption();
        var route = new Option<string?>("--route") { Description = "Only this route's dead letters.", HelpName = "ROUTE" };
        var group = new Option<string?>("--group") { Description = "Only this group (route/provider/reason, as 'triage dead-letters groups' shows it).", HelpName = "GROUP" };
        var since = SinceOption("Only those whose last failure is this recent");
        var status = new Option<string?>("--status") { Description = $"Only those in this status: {string.Join(", ", DeadLetterStatus.All)} (default: all).", HelpName = "STATUS" };
        var limit = new Option<string?>("--limit") { Description = $"How many to list, most recent failure first (default {DeadLettersApi.DefaultLimit}, at most {DeadLettersApi.MaxLimit}).", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print the list as JSON (the answer of GET /v1/dead-letters)." };
        var command = new Command("list", "List dead letters, most recent failure first: route, group, reason, status, how often dead-lettered and replayed.")
        {
            config, route, group, since, status, limit, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var errors = new List<string>();
            var filter = new DeadLetterFilter(
                Group: Text(parse.GetValue(group)),
                Route: Text(parse.GetValue(route)),
                Since: Since(parse.GetValue(since), errors),
                Status: Status(parse.GetValue(status), errors));
            var count = DeadLettersApi.DefaultLimit;
            if (Text(parse.GetValue(limit)) is { } text && !DeadLettersApi.TryParseLimit(text, out count))
            {
                errors.Add($"--limit: '{text}' is not a whole number from 1 to {DeadLettersApi.MaxLimit}");
            }

            if (await KeysCommand.BadInputAsync(errors))
            {
                return 2;
            }

            return await KeysCommand.WithStoreAsync(parse.GetValue(config), async (_, database) =>
            {
                var letters = new DeadLetterStore(database, TimeProvider.System);
                var page = await letters.ListAsync(filter, count, cancellationToken);
                var total = page.Count < count ? page.Count : await letters.CountAsync(filter, cancellationToken);
                var document = new DeadLetterListDocument(page.Select(DeadLetterSummary.Of).ToList(), total);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(document, KeysCommand.Json));
                    return 0;
                }

                if (page.Count == 0)
                {
                    Console.WriteLine(filter == new DeadLetterFilter() ? "No dead letters." : "No dead letters match.");
                    return 0;
                }

                var rows = document.DeadLetters.Select(d => new[]
                {
                    d.EventId,
                    d.Route,
                    d.Group,
                    d.Reason,
                    d.Status,
                    Count(d.TimesDeadLettered),
                    Count(d.ReplayCount),
                    When(d.LastFailedAt),
                }).ToList();
                foreach (var line in KeysCommand.Table(["EVENT ID", "ROUTE", "GROUP", "REASON", "STATUS", "DEAD", "REPLAYS", "LAST FAILURE"], rows, rightAligned: [5, 6]))
                {
                    Console.WriteLine(line);
                }

                if (total > page.Count)
                {
                    Console.WriteLine();
                    Console.WriteLine($"{page.Count} of {total}; --limit lists more (up to {DeadLettersApi.MaxLimit}), --group or --since fewer.");
                }

                return 0;
            }, cancellationToken);
        });
        return command;
    }

    private static Command Show()
    {
        var config = TriageCommandLine.ConfigOption();
        var id = new Argument<string>("ID") { Description = "The failure's event id, as 'triage dead-letters list' shows it." };
        var json = new Option<bool>("--json") { Description = "Print the dead letter as JSON, its whole excerpt included (the answer of GET /v1/dead-letters/{id})." };
        var command = new Command("show", "Show one dead letter: why it failed, every attempt, the build and the start of its failure excerpt.") { config, id, json };
        command.SetAction(async (parse, cancellationToken) => await KeysCommand.WithStoreAsync(parse.GetValue(config), async (_, database) =>
        {
            var eventId = parse.GetValue(id)!.Trim();
            if (await new DeadLetterStore(database, TimeProvider.System).FindAsync(eventId, cancellationToken) is not { } letter)
            {
                await Console.Error.WriteLineAsync($"no dead letter has the event id '{eventId}'; triage dead-letters list shows them");
                return 1;
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(letter, KeysCommand.Json));
                return 0;
            }

            Print(letter);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Groups()
    {
        var config = TriageCommandLine.ConfigOption();
        var route = new Option<string?>("--route") { Description = "Only this route's groups.", HelpName = "ROUTE" };
        var since = SinceOption("Only dead letters whose last failure is this recent");
        var json = new Option<bool>("--json") { Description = "Print the groups as JSON (the answer of GET /v1/dead-letters/groups)." };
        var command = new Command("groups", "Count the waiting dead letters by what failed alike (route, last provider, reason), largest group first.")
        {
            config, route, since, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var errors = new List<string>();
            var filter = new DeadLetterFilter(Route: Text(parse.GetValue(route)), Since: Since(parse.GetValue(since), errors));
            if (await KeysCommand.BadInputAsync(errors))
            {
                return 2;
            }

            return await KeysCommand.WithStoreAsync(parse.GetValue(config), async (_, database) =>
            {
                var groups = await new DeadLetterStore(database, TimeProvider.System).GroupsAsync(filter, cancellationToken);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new DeadLetterGroupsDocument(groups), KeysCommand.Json));
                    return 0;
                }

                if (groups.Count == 0)
                {
                    Console.WriteLine("No dead letters wait for a replay.");
                    return 0;
                }

                PrintGroups(groups);
                Console.WriteLine();
                Console.WriteLine($"{groups.Sum(g => g.Count)} dead letters wait in {groups.Count} group(s); 'triage replay --group GROUP' sends one group again.");
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    private static Command Archive()
    {
        var config = TriageCommandLine.ConfigOption();
        var selection = Selection.Create("archive");
        var dryRun = new Option<bool>("--dry-run") { Description = "Print how many would be archived; change nothing." };
        var command = new Command("archive", "Archive waiting dead letters: they stay for the record and are never replayed.") { config };
        selection.AddTo(command);
        command.Options.Add(dryRun);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var errors = new List<string>();
            var filter = selection.Read(parse, errors);
            if (await KeysCommand.BadInputAsync(errors) || filter is null)
            {
                return 2;
            }

            return await KeysCommand.WithStoreAsync(parse.GetValue(config), async (_, database) =>
            {
                var letters = new DeadLetterStore(database, TimeProvider.System);
                if (parse.GetValue(dryRun))
                {
                    var waiting = await letters.CountAsync(filter with { Status = DeadLetterStatus.Dead }, cancellationToken);
                    Console.WriteLine($"Would archive {waiting} dead letter(s); nothing was changed (--dry-run).");
                    return 0;
                }

                var archived = await letters.ArchiveAsync(filter, cancellationToken);
                Console.WriteLine($"Archived {archived} dead letter(s).");
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// Which dead letters a replay or an archive takes: <c>--id</c> (repeatable), <c>--group</c>, <c>--route</c>,
    /// <c>--since</c>, or <c>--all</c>. Naming none is refused, so that nobody touches every dead letter by accident.
    /// </summary>
    internal sealed record Selection(string Verb, Option<string[]> Ids, Option<string?> Group, Option<string?> Route, Option<string?> Since, Option<bool> All)
    {
        public static Selection Create(string verb) => new(
            verb,
            new Option<string[]>("--id") { Description = $"The event id of a dead letter to {verb}; repeat for more.", HelpName = "ID" },
            new Option<string?>("--group") { Description = $"{Capital(verb)} this group (route/provider/reason, as 'triage dead-letters groups' shows it).", HelpName = "GROUP" },
            new Option<string?>("--route") { Description = $"{Capital(verb)} this route's dead letters.", HelpName = "ROUTE" },
            SinceOption($"{Capital(verb)} those whose last failure is this recent"),
            new Option<bool>("--all") { Description = $"{Capital(verb)} every waiting dead letter, when no other option narrows it: required when none is given." });

        public void AddTo(Command command)
        {
            command.Options.Add(Ids);
            command.Options.Add(Group);
            command.Options.Add(Route);
            command.Options.Add(Since);
            command.Options.Add(All);
        }

        /// <summary>The filter; null, with the problem in <paramref name="errors"/>, when it is bad or names nothing without <c>--all</c>.</summary>
        public DeadLetterFilter? Read(ParseResult parse, List<string> errors)
        {
            var ids = (parse.GetValue(Ids) ?? []).Select(id => id.Trim()).Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            var before = errors.Count;
            var filter = new DeadLetterFilter(
                Ids: ids.Count > 0 ? ids : null,
                Group: Text(parse.GetValue(Group)),
                Route: Text(parse.GetValue(Route)),
                Since: DeadLettersCommand.Since(parse.GetValue(Since), errors));
            if (errors.Count > before)
            {
                return null;
            }

            if (filter.IsEmpty && !parse.GetValue(All))
            {
                errors.Add($"--all: name what to {Verb} with --id, --group, --route or --since, or pass --all for every dead letter");
                return null;
            }

            return filter;
        }

        private static string Capital(string verb) => char.ToUpperInvariant(verb[0]) + verb[1..];
    }

    internal static void PrintGroups(IReadOnlyList<DeadLetterGroup> groups)
    {
        var rows = groups.Select(g => new[] { g.Group, g.Route, g.Reason, Count(g.Count), When(g.FirstSeen), When(g.LastSeen) }).ToList();
        foreach (var line in KeysCommand.Table(["GROUP", "ROUTE", "REASON", "COUNT", "FIRST SEEN", "LAST SEEN"], rows, rightAligned: [3]))
        {
            Console.WriteLine(line);
        }
    }

    internal static DateTimeOffset? Since(string? text, List<string> errors)
    {
        if (Text(text) is not { } since)
        {
            return null;
        }

        if (DeadLettersApi.TryParseSince(since, DateTimeOffset.UtcNow, out var instant))
        {
            return instant;
        }

        errors.Add($"--since: '{since}' is not {DeadLettersApi.SinceHint}");
        return null;
    }

    private static Option<string?> SinceOption(string what) => new("--since")
    {
        Description = $"{what}: an ISO 8601 date or date-time (UTC when no offset), or a duration back from now such as 30m, 2h, 7d.",
        HelpName = "WHEN",
    };

    private static string? Status(string? text, List<string> errors)
    {
        if (Text(text) is not { } status)
        {
            return null;
        }

        if (DeadLetterStatus.All.Contains(status))
        {
            return status;
        }

        errors.Add($"--status: '{status}' is not a status; use {string.Join(", ", DeadLetterStatus.All)}");
        return null;
    }

    private static void Print(DeadLetter letter)
    {
        Console.WriteLine($"Dead letter {letter.EventId}");
        Field("route", letter.Route);
        Field("group", letter.Group);
        Field("reason", letter.Detail is { Length: > 0 } detail ? $"{letter.Reason}: {detail}" : letter.Reason);
        Field("status", letter.Status + (letter.ReplayedAt is { } replayed ? $" (last replayed {When(replayed)})" : string.Empty));
        Field("failed", $"{letter.TimesDeadLettered} time(s): first {When(letter.FirstFailedAt)}, last {When(letter.LastFailedAt)}");
        Field("replays", Count(letter.ReplayCount));
        Field("cost", $"{Usd(letter.Attempts.Sum(a => a.CostUsd))} USD billed by failed attempts");

        Console.WriteLine();
        Console.WriteLine(letter.Attempts.Count == 0 ? "Attempts: none (no provider was tried)" : "Attempts:");
        var attempts = letter.Attempts.Select((a, i) => new[]
        {
            Count(i + 1),
            a.Provider,
            a.Outcome,
            $"{a.DurationMs.ToString("0", CultureInfo.InvariantCulture)} ms",
            Usd(a.CostUsd),
            OneLine(a.Detail ?? string.Empty),
        }).ToList();
        if (attempts.Count > 0)
        {
            foreach (var line in KeysCommand.Table(["#", "PROVIDER", "OUTCOME", "TIME", "COST USD", "DETAIL"], attempts, rightAligned: [0, 3, 4]))
            {
                Console.WriteLine("  " + line);
            }
        }

        var failure = letter.Failure;
        Console.WriteLine();
        Console.WriteLine("Build:");
        Field("source", failure.Source);
        Field("job", $"{failure.Job} #{failure.BuildNumber}");
        Optional("url", failure.BuildUrl);
        Optional("repository", failure.Repository);
        Optional("branch", failure.Branch);
        Optional("commit", failure.Commit);
        Optional("stage", failure.Stage);
        Field("received", When(failure.ReceivedAt));
        foreach (var test in failure.FailedTests)
        {
            Field("failed test", test.Message is { Length: > 0 } message ? $"{test.Name}: {OneLine(message)}" : test.Name);
        }

        var lines = failure.Log.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Console.WriteLine();
        Console.WriteLine(lines.Length > ExcerptLines
            ? $"Failure excerpt (first {ExcerptLines} of {lines.Length} lines; --json has all):"
            : "Failure excerpt:");
        foreach (var line in lines.Take(ExcerptLines))
        {
            Console.WriteLine("  | " + line);
        }
    }

    private static void Field(string name, string value) => Console.WriteLine($"  {name,-12} {value}");

    private static void Optional(string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            Field(name, value);
        }
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length > 160 ? line[..157] + "..." : line;
    }

    private static string? Text(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Usd(decimal value) => value.ToString("0.00####", CultureInfo.InvariantCulture);

    private static string When(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}

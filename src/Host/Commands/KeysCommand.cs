using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Triage.Ingest.Apis;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;

namespace Triage.Host.Commands;

/// <summary>
/// <c>triage keys create|list|revoke|rotate</c>: the teams' virtual keys, straight in the store the configuration
/// names. Exit codes: 0 done, 1 no such key (or it cannot be rotated), 2 bad input.
/// </summary>
internal static class KeysCommand
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>How <see cref="KeySpec.Validate"/> names a field, and how the command line spells it.</summary>
    private static readonly Dictionary<string, string> SpecOptions = new()
    {
        ["team"] = "--team",
        ["rpm"] = "--rpm",
        ["tpm"] = "--tpm",
        ["budget_usd"] = "--budget-usd",
        ["budget_period"] = "--budget-period",
        ["expires"] = "--expires",
    };

    public static Command Create()
    {
        var command = new Command("keys", "Create, list, revoke and rotate the teams' virtual keys, in the store of the configuration.");
        command.Subcommands.Add(New());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        command.Subcommands.Add(Rotate());
        return command;
    }

    private static Command New()
    {
        var config = TriageCommandLine.ConfigOption();
        var team = new Option<string?>("--team") { Description = "Required: the team the key belongs to (usage and budgets are reported per team)." };
        var routes = new Option<string?>("--routes") { Description = "Comma-separated routes the key may post to (default: every route).", HelpName = "a,b" };
        var rpm = new Option<string?>("--rpm") { Description = "Requests per minute (default: no limit).", HelpName = "N" };
        var tpm = new Option<string?>("--tpm") { Description = "Estimated tokens per minute (default: no limit).", HelpName = "N" };
        var budgetUsd = new Option<string?>("--budget-usd") { Description = "Budget in USD per --budget-period (default: no budget).", HelpName = "X" };
        var budgetPeriod = new Option<string?>("--budget-period") { Description = "The budget's calendar period in UTC: day, week (from Monday) or month.", HelpName = "day|week|month" };
        var expires = new Option<string?>("--expires") { Description = "When the key stops working: an ISO 8601 date or date-time (UTC when no offset).", HelpName = "DATE" };
        var json = new Option<bool>("--json") { Description = "Print the new key as JSON (the admin API's answer)." };
        var command = new Command("create", "Create a key and print its secret, once: it cannot be shown again.")
        {
            config, team, routes, rpm, tpm, budgetUsd, budgetPeriod, expires, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var errors = new List<string>();
            var spec = new KeySpec(
                parse.GetValue(team)?.Trim() ?? string.Empty,
                SplitRoutes(parse.GetValue(routes), errors),
                Whole(parse.GetValue(rpm), "--rpm", errors),
                Whole(parse.GetValue(tpm), "--tpm", errors),
                Usd(parse.GetValue(budgetUsd), "--budget-usd", errors),
                string.IsNullOrWhiteSpace(parse.GetValue(budgetPeriod)) ? null : parse.GetValue(budgetPeriod)!.Trim(),
                Instant(parse.GetValue(expires), "--expires", errors));

            // An option that did not parse is reported once, not again as missing.
            var unparsed = errors.Select(e => e.Split(':')[0]).ToHashSet();
            errors.AddRange(spec.Validate(DateTimeOffset.UtcNow)
                .Select(p => (Option: SpecOptions.GetValueOrDefault(p.Field, p.Field), p.Message))
                .Where(p => !unparsed.Contains(p.Option))
                .Select(p => $"{p.Option}: {p.Message}")
                .ToList());
            if (await BadInputAsync(errors))
            {
                return 2;
            }

            return await WithStoreAsync(parse.GetValue(config), async (options, database) =>
            {
                foreach (var route in spec.Routes ?? [])
                {
                    if (!options.Routing.ContainsKey(route))
                    {
                        await Console.Error.WriteLineAsync(
                            $"warning: --routes: '{route}' is not a route of this configuration ({string.Join(", ", options.Routing.Keys)}); the key can use it once it is configured");
                    }
                }

                var issued = await new VirtualKeyStore(database, TimeProvider.System).CreateAsync(spec, cancellationToken);
                var key = await KeyDocument.DescribeAsync(issued.Key, new BudgetLedger(database, TimeProvider.System), DateTimeOffset.UtcNow, cancellationToken);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new IssuedKeyDocument(issued.Secret, AdminApi.SecretNotice, key), Json));
                    return 0;
                }

                Console.WriteLine($"Created key {key.Id} for team {key.Team}.");
                Console.WriteLine();
                PrintSecret(issued.Secret);
                Console.WriteLine();
                Field("id", key.Id);
                Field("prefix", key.Prefix);
                Field("team", key.Team);
                Field("routes", key.Routes.Count == 0 ? "all" : string.Join(", ", key.Routes));
                Field("rpm", key.Rpm?.ToString(CultureInfo.InvariantCulture) ?? "no limit");
                Field("tpm", key.Tpm?.ToString(CultureInfo.InvariantCulture) ?? "no limit");
                Field("budget", key.BudgetUsd is { } usd ? $"{usd.ToString("0.00####", CultureInfo.InvariantCulture)} USD per {key.BudgetPeriod}" : "none");
                Field("expires", key.ExpiresAt is { } at ? at.ToString("u", CultureInfo.InvariantCulture) : "never");
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    private static Command List()
    {
        var config = TriageCommandLine.ConfigOption();
        var team = new Option<string?>("--team") { Description = "Only this team's keys." };
        var json = new Option<bool>("--json") { Description = "Print the keys as JSON." };
        var command = new Command("list", "List the keys, newest first: limits, budget left this period and state (never a secret: none is kept).") { config, team, json };
        command.SetAction(async (parse, cancellationToken) => await WithStoreAsync(parse.GetValue(config), async (_, database) =>
        {
            var now = DateTimeOffset.UtcNow;
            var ledger = new BudgetLedger(database, TimeProvider.System);
            var named = string.IsNullOrWhiteSpace(parse.GetValue(team)) ? null : parse.GetValue(team)!.Trim();
            var keys = new List<KeyDocument>();
            foreach (var key in await new VirtualKeyStore(database, TimeProvider.System).ListAsync(named, cancellationToken))
            {
                keys.Add(await KeyDocument.DescribeAsync(key, ledger, now, cancellationToken));
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new KeyListDocument(keys), Json));
                return 0;
            }

            if (keys.Count == 0)
            {
                Console.WriteLine(named is null ? "No keys yet; create one with: triage keys create --team TEAM" : $"No keys of team {named}.");
                return 0;
            }

            var rows = keys.Select(k => new[]
            {
                k.Id,
                k.Prefix,
                k.Team,
                k.Routes.Count == 0 ? "all" : string.Join(",", k.Routes),
                k.Rpm?.ToString(CultureInfo.InvariantCulture) ?? "-",
                k.Tpm?.ToString(CultureInfo.InvariantCulture) ?? "-",
                k.BudgetUsd is { } usd ? Budget(usd, k.BudgetPeriod) : "-",
                k.RemainingUsd is { } left ? left.ToString("0.00", CultureInfo.InvariantCulture) : "-",
                k.ExpiresAt is { } at ? at.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) : "never",
                k.State,
            }).ToList();
            foreach (var line in Table(["ID", "PREFIX", "TEAM", "ROUTES", "RPM", "TPM", "BUDGET", "REMAINING", "EXPIRES", "STATE"], rows, rightAligned: [4, 5, 6, 7]))
            {
                Console.WriteLine(line);
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Revoke()
    {
        var config = TriageCommandLine.ConfigOption();
        var id = new Argument<string>("ID") { Description = "The key's id (key_...), as triage keys list shows it." };
        var reason = new Option<string?>("--reason") { Description = "Why, kept with the key and told to whoever presents it.", HelpName = "TEXT" };
        var command = new Command("revoke", "Revoke a key: every secret of it stops working at once (within auth.key_cache_seconds in running gateways).")
        {
            config, id, reason,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var why = string.IsNullOrWhiteSpace(parse.GetValue(reason)) ? null : parse.GetValue(reason)!.Trim();
            if (why is { Length: > AdminApi.MaxReasonLength })
            {
                await Console.Error.WriteLineAsync($"--reason: must be at most {AdminApi.MaxReasonLength} characters");
                return 2;
            }

            return await WithStoreAsync(parse.GetValue(config), async (options, database) =>
            {
                var keys = new VirtualKeyStore(database, TimeProvider.System);
                var known = await keys.FindAsync(parse.GetValue(id)!, cancellationToken);
                if (known is null)
                {
                    return await NoSuchKeyAsync(parse.GetValue(id)!);
                }

                if (known.RevokedAt is { } before)
                {
                    Console.WriteLine($"{known.Id} was already revoked at {before:u}{(known.RevokedReason is { } first ? $": {first}" : string.Empty)}.");
                    return 0;
                }

                var revoked = await keys.RevokeAsync(known.Id, why, cancellationToken);
                Console.WriteLine(
                    $"Revoked {known.Id} (team {known.Team}, {known.Prefix}...) at {revoked!.RevokedAt:u}{(why is null ? string.Empty : $": {why}")}. "
                    + $"Running gateways refuse it within {options.Auth.KeyCacheSeconds} s.");
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    private static Command Rotate()
    {
        var config = TriageCommandLine.ConfigOption();
        var id = new Argument<string>("ID") { Description = "The key's id (key_...), as triage keys list shows it." };
        var grace = new Option<string?>("--grace")
        {
            Description = "Seconds the old secret keeps working, to move builds over (default: auth.rotation_grace_seconds, 86400).",
            HelpName = "SECONDS",
        };
        var json = new Option<bool>("--json") { Description = "Print the new secret and the key as JSON (the admin API's answer)." };
        var command = new Command("rotate", "Give a key a new secret, same id and limits; print it once. The old one works for the grace period.")
        {
            config, id, grace, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var errors = new List<string>();
            var seconds = Whole(parse.GetValue(grace), "--grace", errors);
            if (seconds < 0)
            {
                errors.Add("--grace: must be 0 (the old secret stops at once) or more");
            }

            if (await BadInputAsync(errors))
            {
                return 2;
            }

            return await WithStoreAsync(parse.GetValue(config), async (options, database) =>
            {
                var keys = new VirtualKeyStore(database, TimeProvider.System);
                var previous = await keys.FindAsync(parse.GetValue(id)!, cancellationToken);
                if (previous is null)
                {
                    return await NoSuchKeyAsync(parse.GetValue(id)!);
                }

                var period = TimeSpan.FromSeconds(seconds ?? options.Auth.RotationGraceSeconds);
                IssuedKey? issued;
                try
                {
                    issued = await keys.RotateAsync(previous.Id, period, cancellationToken);
                }
                catch (InvalidOperationException e)
                {
                    await Console.Error.WriteLineAsync(e.Message);
                    return 1;
                }

                if (issued is null)
                {
                    return await NoSuchKeyAsync(previous.Id);
                }

                var now = DateTimeOffset.UtcNow;
                var until = now + period;
                if (parse.GetValue(json))
                {
                    var key = await KeyDocument.DescribeAsync(issued.Key, new BudgetLedger(database, TimeProvider.System), now, cancellationToken);
                    Console.WriteLine(JsonSerializer.Serialize(new IssuedKeyDocument(issued.Secret, AdminApi.SecretNotice, key, previous.Prefix, until), Json));
                    return 0;
                }

                Console.WriteLine($"New secret of {issued.Key.Id} (team {issued.Key.Team}, now {issued.Key.Prefix}...).");
                Console.WriteLine();
                PrintSecret(issued.Secret);
                Console.WriteLine();
                Console.WriteLine(period > TimeSpan.Zero
                    ? $"The old secret ({previous.Prefix}...) keeps working until {until:u}; then only the new one does."
                    : $"The old secret ({previous.Prefix}...) stopped working now.");
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// Loads the configuration, opens its store and brings the schema up to date (a fresh machine works), then runs
    /// <paramref name="action"/>. A bad configuration is bad input (2); a store that cannot be reached is 1.
    /// </summary>
    internal static async Task<int> WithStoreAsync(
        string? configPath, Func<TriageOptions, TriageDatabase, Task<int>> action, CancellationToken cancellationToken)
    {
        if (await TriageCommandLine.LoadConfigurationAsync(configPath) is not { } options)
        {
            return 2;
        }

        var database = TriageDatabase.From(options.Store, options.BaseDirectory, retryOnFailure: false);
        try
        {
            try
            {
                await database.MigrateAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"The store ({database.Description}) could not be opened: {e.Message}");
                return 1;
            }

            return await action(options, database);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>Prints every problem on its own line; true when there was one.</summary>
    internal static async Task<bool> BadInputAsync(IReadOnlyList<string> errors)
    {
        foreach (var error in errors)
        {
            await Console.Error.WriteLineAsync(error);
        }

        return errors.Count > 0;
    }

    internal static DateTimeOffset? Instant(string? text, string option, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (AdminApi.TryParseInstant(text, out var instant))
        {
            return instant;
        }

        errors.Add($"{option}: '{text}' is not {AdminApi.InstantHint}");
        return null;
    }

    /// <summary>Columns padded to their widest cell; numbers aligned right.</summary>
    internal static IEnumerable<string> Table(string[] header, IReadOnlyList<string[]> rows, int[] rightAligned)
    {
        var widths = header.Select((title, column) => rows.Select(r => r[column].Length).Append(title.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            yield return string.Join("  ", row.Select((cell, column) => rightAligned.Contains(column) ? cell.PadLeft(widths[column]) : cell.PadRight(widths[column]))).TrimEnd();
        }
    }

    private static int? Whole(string? text, string option, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{option}: '{text}' is not a whole number");
        return null;
    }

    private static decimal? Usd(string? text, string option, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (decimal.TryParse(text.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{option}: '{text}' is not an amount in USD (such as 25 or 12.50)");
        return null;
    }

    private static List<string> SplitRoutes(string? text, List<string> errors)
    {
        var routes = new List<string>();
        foreach (var name in (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!AdminApi.TryRoute(name, out var route))
            {
                errors.Add($"--routes: '{name}' is not a route name");
                continue;
            }

            routes.Add(route);
        }

        return routes;
    }

    private static string Budget(decimal usd, string? period) => $"{usd.ToString("0.00####", CultureInfo.InvariantCulture)}/{period}";

    private static void PrintSecret(string secret)
    {
        Field("secret", secret);
        Field(string.Empty, "Shown once: it cannot be shown again. Store it now; the gateway keeps only its hash.");
    }

    private static void Field(string name, string value) => Console.WriteLine($"  {name,-8} {value}");

    private static async Task<int> NoSuchKeyAsync(string id)
    {
        await Console.Error.WriteLineAsync($"no key has the id '{id}'; triage keys list shows them");
        return 1;
    }
}

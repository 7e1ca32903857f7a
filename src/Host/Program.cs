using Triage.Host.Commands;

var parsed = TriageCommandLine.Build().Parse(args);
if (parsed.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
{
    // Bad usage exits 2, as every command's own input checks do; help and the errors go to stderr.
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync(error.Message);
    }

    await Console.Error.WriteLineAsync($"See 'triage {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2))} --help'.".Replace("  ", " "));
    return 2;
}

return await parsed.InvokeAsync();

using Triage.Host.Commands;

return await TriageCommandLine.Build().Parse(args).InvokeAsync();

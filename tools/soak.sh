#!/usr/bin/env bash
# A soak of the distributed gateway, not a CI test: each role (ingest, router, workers) runs as its own `triage run`
# process against the local RabbitMQ (a fresh virtual host) and PostgreSQL (a fresh database); a primary provider
# flaps (up one minute, down the next), a secondary stays up; failures are posted at a moderate rate for the given
# minutes, then the dead letters are replayed once the primary is back, and the run is counted: triages, failovers,
# dead letters, replays, lost (must be 0), duplicates recorded (must be 0), and each role's RSS at start and end.
#
#   tools/soak.sh                      # 10 minutes at 5 failures/s
#   tools/soak.sh --minutes 2 --rate 10 --flap-seconds 30
#   tools/soak.sh --keep               # keep the vhost, the database and the roles' logs
#   tools/soak.sh | tee docs/soak-last.txt   # the run tools/reliability-report.sh puts in docs/reliability.md
#
# Needs the .NET SDK, RabbitMQ with its management plugin and PostgreSQL as the tests do (TRIAGE_TEST_RABBITMQ,
# TRIAGE_TEST_RABBITMQ_MANAGEMENT, TRIAGE_TEST_POSTGRES; .ci/run sets them up). Exits 1 when the count does not hold.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "Building the triage binary and the soak (Release)..."
dotnet build src/Host/Triage.Host.csproj -c Release -nologo -v quiet -clp:NoSummary
dotnet build tools/Soak/Triage.Soak.csproj -c Release -nologo -v quiet -clp:NoSummary

exec dotnet tools/Soak/bin/Release/net10.0/Triage.Soak.dll --triage src/Host/bin/Release/net10.0/triage.dll "$@"

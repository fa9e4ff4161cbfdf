#!/usr/bin/env bash
# Stop the daemons start.sh started, each by the PID it recorded, newest first.
set -uo pipefail
S=${SLURM_SCRATCH:-/tmp/parksim-slurm}
status=0
for name in slurmd slurmctld slurmdbd mariadbd munged; do
  f="$S/$name.pid"
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop.sh: $name ($pid) still running after 10 s; killing it" >&2
      kill -KILL "$pid"; status=1
    fi
  fi
  rm -f "$f"
done
exit $status

#!/usr/bin/env bash
# The SLURM check of CI (make test-slurm): start a one-node cluster, run a
# two-job sweep through hydra/launcher=submitit_slurm and the same sweep with
# joblib, require byte-identical kpis.json, run a sweep whose second job the
# scheduler fails (its setup line exits 3) and require that parksim reports it
# (exit 1, the failed member named) within a time limit, then stop every daemon
# by its PID. PY is the Python of the project's environment.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
OWN_SCRATCH=${SLURM_SCRATCH:-}
export SLURM_SCRATCH=${SLURM_SCRATCH:-$(mktemp -d /tmp/parksim-slurm.XXXXXX)}
WORK=$(mktemp -d /tmp/parksim-slurm-runs.XXXXXX)
t0=$(date +%s)
cleanup() {
  "$HERE/stop.sh"
    [ -n "$OWN_SCRATCH" ] || rm -rf "$SLURM_SCRATCH"
}
trap cleanup EXIT
eval "$("$HERE/start.sh")"
t1=$(date +%s)
echo "test-slurm: cluster up in $((t1 - t0)) s (SLURM_CONF=$SLURM_CONF)"

cd "$WORK"
PARKSIM=("$PY" -c "from simulation.cli import main; main()")
SWEEP=(-m seed=0,1 park=small days=2 output.figures=false progress=false)

"${PARKSIM[@]}" "${SWEEP[@]}" hydra.sweep.dir="$WORK/joblib" >joblib.log 2>&1
timeout 300 "${PARKSIM[@]}" "${SWEEP[@]}" hydra/launcher=submitit_slurm \
  hydra.sweep.dir="$WORK/slurm" >slurm.log 2>&1 \
  || { echo "test-slurm: the SLURM sweep failed" >&2; tail -30 slurm.log >&2; exit 1; }
n=0
for k in "$WORK"/joblib/*/kpis.json; do
  d=$(basename "$(dirname "$k")")
  cmp "$k" "$WORK/slurm/$d/kpis.json"
  n=$((n + 1))
done
[ "$n" -eq 2 ] || { echo "test-slurm: expected 2 runs, found $n" >&2; exit 1; }
echo "test-slurm: $n runs, kpis.json identical under joblib and SLURM"

# the second job of the array fails at the scheduler (its setup line exits 3)
set +e
timeout 300 "${PARKSIM[@]}" "${SWEEP[@]}" hydra/launcher=submitit_slurm \
  hydra.sweep.dir="$WORK/failing" \
  'hydra.launcher.setup=["test \"$SLURM_ARRAY_TASK_ID\" != 1 || exit 3"]' >failing.log 2>&1
rc=$?
set -e
if ! { [ "$rc" -eq 1 ] && grep -q "parksim: failed: #1 seed=1" failing.log \
       && grep -q "1 of 2 runs finished" failing.log && [ -f "$WORK/failing/failed_job_1.json" ]; }; then
  echo "test-slurm: the failing job was not reported (exit $rc)" >&2; tail -30 failing.log >&2; exit 1
fi
echo "test-slurm: the failed job was reported (exit $rc): $(grep -m1 'parksim: failed' failing.log | cut -c1-100)"
echo "test-slurm: $(( $(date +%s) - t0 )) s in all"
cd / && rm -rf "$WORK"

#!/usr/bin/env bash
# make slurm-check: `pam sweep` on a real one-node Slurm cluster gives the same tables as a
# local run. Usage: scripts/slurm-check.sh PAM_BINARY [--cluster-only]
#
#   1. starts the cluster of scripts/slurm-cluster.sh under DIR (stopped again on any exit) and
#      proves it alone: a 2-task job array must complete with exit 0 and write its files;
#   2. runs the sweep locally: `pam sweep SWEEP --out DIR/local --jobs 2`, then collect;
#   3. runs it as a Slurm array: `pam sweep SWEEP --out DIR/cluster --slurm --submit`, waits
#      until `squeue` no longer lists the array (bounded), checks that every array task completed
#      with exit 0, then collect;
#   4. compares DIR/local and DIR/cluster results.csv and results.json byte for byte.
#
# No accounting database: a task's end state and exit code come from the cluster's job
# completion log (jobcomp/filetxt, DIR/cluster-state/jobcomp.log), one line per array task.
# Environment: SWEEP (default scenarios/eval/small.yaml), SLURM_CHECK_DIR (default
# out/slurm-check; kept after the run for inspection), SLURM_CHECK_TIMEOUT (seconds the array
# may take, default 1800), PAM_CACHE (the calibration cache, as for pam itself).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 1 ] || { echo "usage: $0 PAM_BINARY [--cluster-only]" >&2; exit 2; }
pam=$(realpath "$1")
cluster_only=${2:-}
sweep=${SWEEP:-scenarios/eval/small.yaml}
work=${SLURM_CHECK_DIR:-out/slurm-check}
timeout=${SLURM_CHECK_TIMEOUT:-1800}
cluster=scripts/slurm-cluster.sh

say() { echo "slurm-check: $*"; }
fail() {
  say "FAIL: $*" >&2
  exit 1
}
secs() { echo $(($(date +%s) - $1)); }

[ -x "$pam" ] || fail "$1 is not an executable (make build first)"
[ "$cluster_only" = "" ] || [ "$cluster_only" = "--cluster-only" ] || fail "unknown option $cluster_only"
[ -n "$cluster_only" ] || [ -f "$sweep" ] || fail "sweep file $sweep not found"
[ "$(id -u)" -eq 0 ] || fail "the test cluster runs as root (as CI does): run as root"

mkdir -p "$work"
work=$(realpath "$work")
state=$work/cluster-state
bash "$cluster" stop "$state" >/dev/null 2>&1 || true   # a cluster left by an interrupted run
rm -rf "$work"
mkdir -p "$work"
trap 'bash "$cluster" stop "$state" >/dev/null 2>&1 || true' EXIT
t0=$(date +%s)
bash "$cluster" start "$state" || fail "the one-node cluster did not start"
export SLURM_CONF=$state/slurm.conf
say "cluster up in $(secs "$t0") s"

# Waits until squeue no longer lists job JOBID, at most LIMIT seconds.
wait_job() {
  local job=$1 limit=$2 start out
  start=$(date +%s)
  while :; do
    if ! out=$(squeue -h -j "$job" -o '%i %T' 2>&1); then
      bash "$cluster" status "$state" >/dev/null || fail "the cluster stopped while job $job ran"
      # squeue -j errors on a job id slurmctld has already purged: it is done.
      case $out in *"Invalid job id"*) return 0 ;; esac
      fail "squeue -j $job: $out"
    fi
    [ -n "$out" ] || return 0
    if [ "$(secs "$start")" -ge "$limit" ]; then
      say "job $job still queued after $limit s:" >&2
      squeue -j "$job" >&2 || true
      return 1
    fi
    sleep 2
  done
}

# The value of KEY=value in a jobcomp line (the leading space keeps ExitCode from matching
# DerivedExitCode).
field() { sed -nE "s/.* $1=([^ ]*).*/\1/p" <<<" $2"; }

# Checks that array JOB has exactly N tasks in the completion log, each COMPLETED with exit 0;
# prints the failed tasks' output (the files matching OUTGLOB with %a replaced) otherwise.
check_tasks() {
  local job=$1 n=$2 outpat=$3 log=$state/jobcomp.log lines t=0 bad
  # The completion record is written as the task ends; allow the last one a moment.
  while :; do
    lines=$(grep -E "(^| )ArrayJobId=$job( |$)" "$log" 2>/dev/null || true)
    [ "$(printf '%s' "$lines" | grep -c . || true)" -ge "$n" ] || [ $t -ge 10 ] || { sleep 1; t=$((t + 1)); continue; }
    break
  done
  local got
  got=$(printf '%s\n' "$lines" | grep -o 'ArrayTaskId=[0-9]*' | sort -u | grep -c . || true)
  bad=$(printf '%s\n' "$lines" | grep -v 'JobState=COMPLETED .* ExitCode=0:0' | grep . || true)
  if [ -n "$bad" ]; then
    say "array $job: tasks that did not complete with exit 0:" >&2
    local l
    while IFS= read -r l; do
      echo "  task $(field ArrayTaskId "$l"): $(field JobState "$l"), exit $(field ExitCode "$l")" >&2
    done <<<"$bad"
    local id f
    for id in $(printf '%s\n' "$bad" | grep -o 'ArrayTaskId=[0-9]*' | cut -d= -f2); do
      f=${outpat//%a/$id}
      echo "---- tail of $f" >&2
      tail -n 30 "$f" >&2 2>/dev/null || echo "(no output file)" >&2
    done
    return 1
  fi
  [ "$got" -eq "$n" ] || { say "array $job: $got of $n tasks in the completion log" >&2; return 1; }
}

# 1. The cluster alone: a 2-task array that writes one file per task.
t0=$(date +%s)
mkdir -p "$work/trivial"
# shellcheck disable=SC2016  # the task's shell expands them
job=$(sbatch --parsable --array=0-1 --chdir="$work/trivial" --output="$work/trivial/%A_%a.out" \
  --time=5 --wrap 'echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT" >"task.$SLURM_ARRAY_TASK_ID"') ||
  fail "sbatch of the trivial array"
job=${job%%;*}
wait_job "$job" 120 || fail "the trivial 2-task array did not finish within 120 s"
check_tasks "$job" 2 "$work/trivial/${job}_%a.out" || fail "the trivial 2-task array"
for i in 0 1; do
  grep -qx "task $i of 2" "$work/trivial/task.$i" 2>/dev/null ||
    fail "the trivial array's task $i did not write task.$i"
done
say "PASS cluster: a 2-task job array completed in $(secs "$t0") s"
if [ -n "$cluster_only" ]; then
  say "PASS (cluster only)"
  exit 0
fi

# 2. The sweep, locally.
t0=$(date +%s)
"$pam" sweep "$sweep" --out "$work/local" --jobs 2 >"$work/local.log" 2>&1 ||
  { tail -n 30 "$work/local.log" >&2; fail "pam sweep $sweep --out $work/local --jobs 2"; }
tail -n 1 "$work/local.log"
"$pam" sweep collect "$work/local" >>"$work/local.log" 2>&1 ||
  { tail -n 30 "$work/local.log" >&2; fail "pam sweep collect $work/local"; }
t_local=$(secs "$t0")
say "local sweep and collect in $t_local s"

# 3. The same sweep as a Slurm job array.
t0=$(date +%s)
"$pam" sweep "$sweep" --out "$work/cluster" --slurm --submit >"$work/submit.log" 2>&1 ||
  { cat "$work/submit.log" >&2; fail "pam sweep $sweep --out $work/cluster --slurm --submit"; }
cat "$work/submit.log"
line=$(grep -o 'submitted job array [0-9]* ([0-9]* tasks)' "$work/submit.log" | tail -n 1) ||
  fail "no 'submitted job array <JOBID> (<N> tasks)' line from pam sweep --submit"
job=$(echo "$line" | awk '{ print $4 }')
ntasks=$(echo "$line" | tr -d '(' | awk '{ print $5 }')
[ "$(tr -d '[:space:]' <"$work/cluster/slurm/job_id" 2>/dev/null)" = "$job" ] ||
  fail "$work/cluster/slurm/job_id does not hold the submitted job id $job"
t_submit=$(secs "$t0")
wait_job "$job" "$timeout" || fail "the sweep's job array $job did not finish within $timeout s"
check_tasks "$job" "$ntasks" "$work/cluster/slurm/${job}_%a.out" ||
  fail "the sweep's job array $job had failed tasks"
t_array=$(secs "$t0")
say "PASS slurm array: $ntasks tasks of job $job completed with exit 0 ($t_submit s to calibrate and submit, $t_array s in all)"
"$pam" sweep collect "$work/cluster" >"$work/collect.log" 2>&1 ||
  { cat "$work/collect.log" >&2; fail "pam sweep collect $work/cluster"; }
say "slurm sweep and collect in $(secs "$t0") s (local: $t_local s)"

# 4. The tables must be byte-identical.
status=0
for f in results.csv results.json; do
  if cmp "$work/local/$f" "$work/cluster/$f"; then
    say "PASS $f identical ($(wc -c <"$work/local/$f") bytes)"
  else
    say "FAIL $f differs between $work/local and $work/cluster" >&2
    diff "$work/local/$f" "$work/cluster/$f" | head -n 20 >&2 || true
    status=1
  fi
done
[ $status -eq 0 ] || fail "the local and Slurm tables differ"
say "PASS"

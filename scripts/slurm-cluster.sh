#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying `pam sweep --slurm` and for make
# slurm-check: `scripts/slurm-cluster.sh start|stop|status|env DIR`.
#
# Everything lives under DIR: slurm.conf, the munge key, socket, seed, pid and log files, the
# controller's state, slurmd's spool, the job completion log. Nothing in /etc is read or edited
# (the key is made fresh for DIR), no systemd: munged, `slurmctld -D` and `slurmd -D` run in the
# background, started in that order, and `start` returns once `sinfo` shows the node idle. Point
# the Slurm commands at it with `export SLURM_CONF=DIR/slurm.conf` (or `eval "$(... env DIR)"`).
#
# The known pitfalls (SERVING-SPEC.md section 13): proctrack/linuxproc and task/none (no
# cgroups here), no accounting daemon, the node's CPUs and memory declared at or below what the
# machine has (otherwise the node drains), and its name equal to `hostname -s`. Run as root
# (SlurmUser=root). Ports: the first free pair from 6817 up, written to DIR/slurm.conf.
#
# Completed jobs, array tasks included, stay in `scontrol show job` for MinJobAge (600 s) and
# are appended to DIR/jobcomp.log (jobcomp/filetxt: JobState and ExitCode per task), which is
# how a caller learns that a task failed without an accounting database.
set -euo pipefail

START_TIMEOUT=${SLURM_CLUSTER_TIMEOUT:-60}   # seconds for the node to come up idle

usage() {
  echo "usage: $0 start|stop|status|env DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf=$dir/slurm.conf
node=$(hostname -s)
export SLURM_CONF=$conf

say() { echo "slurm-cluster: $*"; }

# Our daemons: name -> pid file written by us when we started it.
daemons=(slurmd slurmctld munged)
pidfile() { echo "$dir/run/$1.started.pid"; }

# A pid is ours only if it is still running the program we started (pids get reused).
running() {
  local f pid
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$1" || return 1
  echo "$pid"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tails() {
  local f
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] || continue
    echo "---- tail of $f" >&2
    tail -n 25 "$f" >&2
  done
}

write_conf() {
  local cpus mem_mb port
  cpus=$(nproc)
  # Declared memory: 90% of MemTotal, so that the node never reports less than declared.
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  port=6817
  while ! port_free "$port" || ! port_free $((port + 1)); do
    port=$((port + 2))
    [ "$port" -lt 6900 ] || { say "no free port pair in 6817..6899" >&2; exit 1; }
  done
  cat >"$conf" <<EOF
# Written by scripts/slurm-cluster.sh: a one-node cluster whose state is all under $dir.
ClusterName=pam
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
MaxArraySize=10001
InactiveLimit=0
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

node_state() { sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n1; }

start() {
  [ "$(id -u)" -eq 0 ] || { say "run as root (SlurmUser=root)" >&2; exit 1; }
  local d
  for d in "${daemons[@]}"; do
    if running "$d" >/dev/null; then
      say "already running in $dir ($d); stop it first" >&2
      exit 1
    fi
  done
  for c in munged slurmctld slurmd sinfo scontrol; do
    command -v "$c" >/dev/null || { say "$c not found: run scripts/setup.sh as root" >&2; exit 1; }
  done
  rm -rf "$dir/state" "$dir/spool" "$dir/run" "$dir/log" "$dir/munge" "$dir/jobcomp.log"
  mkdir -p "$dir/state" "$dir/spool" "$dir/run" "$dir/log" "$dir/munge"
  # munged insists that its key and its directories are not writable by others.
  chmod 755 "$dir"
  chmod 711 "$dir/munge"
  write_conf

  # A fresh key for this cluster alone (older munge has no mungekey: random bytes do).
  mungekey --create --keyfile="$dir/munge/munge.key" --force 2>/dev/null ||
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$dir/munge/munge.key"
  # --force: munged otherwise refuses to start when an ancestor of DIR is group- or
  # world-writable without the sticky bit (a CI checkout may be); it then only warns. The key
  # stays private (0600, root) and the cluster is root's alone.
  setsid munged --foreground --force \
    --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" </dev/null >>"$dir/log/munged.log" 2>&1 &
  echo $! >"$(pidfile munged)"
  local t=0
  until [ -S "$dir/munge/munge.socket" ]; do
    sleep 0.2
    t=$((t + 1))
    if [ $t -gt 50 ] || ! running munged >/dev/null; then
      say "munged did not come up" >&2
      tails
      stop_all
      exit 1
    fi
  done

  setsid slurmctld -D -c -f "$conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
  echo $! >"$(pidfile slurmctld)"
  setsid slurmd -D -c -N "$node" -f "$conf" </dev/null >>"$dir/log/slurmd.out" 2>&1 &
  echo $! >"$(pidfile slurmd)"

  local state="" deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    state=$(node_state)
    case $state in
      idle*) say "node $node idle (SLURM_CONF=$conf, $(grep -o 'CPUs=[0-9]* RealMemory=[0-9]*' "$conf"))"
             return 0 ;;
      drain* | down*) [ $((deadline - SECONDS)) -lt $((START_TIMEOUT / 2)) ] && break ;;
    esac
    for d in slurmctld slurmd; do
      running "$d" >/dev/null || { say "$d exited" >&2; state="$d exited"; break 2; }
    done
    sleep 1
  done
  say "node $node not idle after ${START_TIMEOUT}s (state: ${state:-none})" >&2
  scontrol show node "$node" 2>/dev/null | grep -E 'State=|Reason=' >&2 || true
  tails
  stop_all
  exit 1
}

stop_all() {
  # Cancel our cluster's jobs first so that no slurmstepd outlives slurmd.
  if running slurmctld >/dev/null; then
    local jobs
    jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      local t=0
      while [ -n "$(squeue -h 2>/dev/null)" ] && [ $t -lt 15 ]; do sleep 1; t=$((t + 1)); done
    fi
  fi
  local d pid t
  for d in "${daemons[@]}"; do
    if pid=$(running "$d"); then
      kill "$pid" 2>/dev/null || true
      t=0
      while kill -0 "$pid" 2>/dev/null && [ $t -lt 50 ]; do sleep 0.2; t=$((t + 1)); done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
      say "stopped $d ($pid)"
    fi
    rm -f "$(pidfile "$d")"
  done
}

status() {
  local d pid rc=0
  for d in "${daemons[@]}"; do
    if pid=$(running "$d"); then echo "$d: running ($pid)"; else echo "$d: not running"; rc=1; fi
  done
  [ $rc -eq 0 ] && sinfo -N -n "$node" -o '%N %T %c %m' 2>/dev/null
  return $rc
}

case $cmd in
  start) start ;;
  stop) stop_all ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) usage ;;
esac

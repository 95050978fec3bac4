#!/usr/bin/env bash
# A throw-away one-node SLURM cluster on 127.0.0.1, for integration tests of the workflow's
# SLURM profile (profiles/slurm) against a real slurmctld/slurmd -- not a mock.
#
#   tests/integration/slurm_cluster.sh start [DIR]   install slurm-wlm + munge if missing (apt-get),
#                                                    write DIR/slurm.conf, start munged, slurmctld,
#                                                    slurmd, wait until the node is idle, then print
#                                                    the `env` lines on stdout (progress: stderr)
#   tests/integration/slurm_cluster.sh env [DIR]     print the exports for clients of this cluster:
#                                                    LINDIFF_SLURM_DIR, SLURM_CONF, PATH (DIR/bin first)
#   tests/integration/slurm_cluster.sh status [DIR]  daemons alive? sinfo / squeue of this cluster
#   tests/integration/slurm_cluster.sh stop [DIR]    cancel this cluster's jobs, stop the daemons it
#                                                    started (by the PIDs in DIR/run/*.pid only)
#
# Typical use, as root:
#   eval "$(tests/integration/slurm_cluster.sh start)"     # sets LINDIFF_SLURM_DIR, SLURM_CONF, PATH
#   snakemake --workflow-profile profiles/slurm --slurm-status-command squeue \
#       --slurm-init-seconds-before-status-checks 1 --config overrides="sweep=smoke"
#   tests/integration/slurm_cluster.sh stop                 # uses $LINDIFF_SLURM_DIR
#
# DIR defaults to $LINDIFF_SLURM_DIR, else (start only) a new mktemp directory under /tmp.
# Everything lives in DIR: config, a private munge key and socket (a system munged, if any, is
# left alone), state, spool, logs, pid files and bin/srun (see write_srun_shim). Nothing outside
# DIR is written except by apt-get. Ports: the first free ones from 6817 (slurmctld) and 6818
# (slurmd), or $LINDIFF_SLURMCTLD_PORT / $LINDIFF_SLURMD_PORT. Needs root (SlurmUser=root; slurmd
# starts jobs as their submitter). Exit status: 0 ok, 1 failure (start stops what it started),
# 2 usage, 3 SLURM is missing and cannot be installed (no root, no apt-get, apt-get failed).
#
# Settings known to work on Debian 12 (slurm-wlm 22.05, munge 0.5.15), also under gVisor:
# proctrack/linuxproc, task/none, no accounting (so `sacct` has nothing to report: use
# `--slurm-status-command squeue`), MinJobAge=3600 so that squeue keeps finished jobs around.
set -euo pipefail

PROG=$(basename "$0")
START_TIMEOUT=${LINDIFF_SLURM_START_TIMEOUT:-60}   # seconds for each daemon / the node to come up

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }
die_install() { log "error: $*"; exit 3; }  # exit status 3: SLURM is missing and cannot be installed

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# --------------------------------------------------------------------------- install

have_slurm() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null
}

install_slurm() {
    have_slurm && return 0
    [ "$(id -u)" -eq 0 ] || die_install "slurm-wlm/munge are not installed and installing them needs root"
    command -v apt-get >/dev/null || die_install "slurm-wlm/munge are not installed and there is no apt-get"
    local packages="slurm-wlm munge"
    export DEBIAN_FRONTEND=noninteractive
    local updated=no
    # `apt-get update` only when the package lists do not know the packages yet
    if ! apt-cache show $packages >/dev/null 2>&1; then
        log "apt-get update"
        apt-get update -qq >&2 || die_install "apt-get update failed"
        updated=yes
    fi
    log "apt-get install $packages (takes a minute)"
    if ! apt-get install -y -qq --no-install-recommends $packages >&2; then
        # stale package lists (versions gone from the mirror): update once and retry
        [ "$updated" = no ] || die_install "apt-get install $packages failed"
        log "apt-get install failed: apt-get update, then retry"
        apt-get update -qq >&2 || die_install "apt-get update failed"
        apt-get install -y -qq --no-install-recommends $packages >&2 \
            || die_install "apt-get install $packages failed"
    fi
    have_slurm || die_install "slurmctld/slurmd/sbatch/munged still missing after apt-get install"
}

# --------------------------------------------------------------------------- helpers

port_in_use() {
    # something accepts connections on 127.0.0.1:$1, or ss lists it as listening
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if command -v ss >/dev/null && ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
    return 1
}

free_port() {  # first free port >= $1 that is not $2
    local port=$1
    while port_in_use "$port" || [ "$port" = "${2:-}" ]; do
        port=$((port + 1))
        [ "$port" -lt $(($1 + 200)) ] || die "no free port in $1..$((port - 1))"
    done
    echo "$port"
}

proc_is() {  # proc_is PID NAME: process PID exists, is not a zombie, and is called NAME
    local pid=$1 name=$2 comm state
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$comm" = "$name" ] && [ "$state" != Z ] && [ "$state" != X ]
}

recorded_pid() {  # recorded_pid PIDFILE: the PID in it (empty if none)
    [ -s "$1" ] && tr -dc '0-9' <"$1" || true
}

pid_alive() {  # pid_alive PIDFILE NAME: the recorded process is alive and is NAME
    proc_is "$(recorded_pid "$1")" "$2"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.5 s
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || { log "timed out after ${seconds}s waiting for $what"; return 1; }
        sleep 0.5
    done
}

node_idle() {
    local state
    state=$(sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null | head -n1)
    [ "$state" = "idle" ]
}

show_logs() {
    local f
    for f in "$DIR"/log/*.log; do
        [ -f "$f" ] || continue
        log "---- last lines of $f"
        tail -n 25 "$f" >&2 || true
    done
}

resolve_dir() {  # resolve_dir [DIR] [create]: sets DIR
    DIR=${1:-${LINDIFF_SLURM_DIR:-}}
    if [ -z "$DIR" ]; then
        [ "${2:-}" = create ] || die "no cluster directory: pass DIR or set LINDIFF_SLURM_DIR"
        DIR=$(mktemp -d /tmp/lindiff-slurm.XXXXXX)
    fi
    if [ "${2:-}" = create ]; then
        mkdir -p "$DIR"
    elif [ ! -d "$DIR" ]; then
        die "no cluster directory $DIR"
    fi
    DIR=$(cd "$DIR" && pwd -P)
    # the munge socket path must fit in a unix socket address (108 bytes)
    [ ${#DIR} -le 80 ] || die "cluster directory path too long for a unix socket: $DIR"
    NODE=$(cat "$DIR/node" 2>/dev/null || hostname -s)
}

print_env() {
    [ -f "$DIR/slurm.conf" ] || die "$DIR/slurm.conf does not exist: start the cluster first"
    printf 'export LINDIFF_SLURM_DIR=%q\n' "$DIR"
    printf 'export SLURM_CONF=%q\n' "$DIR/slurm.conf"
    # shellcheck disable=SC2016
    printf 'export PATH=%q:"$PATH"\n' "$DIR/bin"
}

write_srun_shim() {
    # snakemake-executor-plugin-slurm-jobstep (0.6.1) runs each job's `srun` with every SLURM_*
    # variable removed except the job's identity, SLURM_CONF included; srun then cannot find a
    # slurm.conf outside /etc/slurm ("Could not establish a configuration source"). Clusters
    # with /etc/slurm/slurm.conf or a configless slurmd are not affected. This cluster's config
    # lives in DIR, so DIR/bin (first on PATH, see `env`) holds an srun that restores it and
    # runs the real one.
    local real_srun
    real_srun=$(command -v srun) || die "srun not found"
    [ "$real_srun" != "$DIR/bin/srun" ] || real_srun=/usr/bin/srun
    mkdir -p "$DIR/bin"
    cat >"$DIR/bin/srun" <<EOF
#!/bin/sh
# written by $PROG for the test cluster in $DIR (see write_srun_shim there)
SLURM_CONF=\${SLURM_CONF:-$DIR/slurm.conf}
export SLURM_CONF
exec $real_srun "\$@"
EOF
    chmod 0755 "$DIR/bin/srun"
}

# --------------------------------------------------------------------------- start

write_config() {
    local cpus mem_mb ctld_port slurmd_port
    cpus=$(nproc)
    # leave a little memory to the system; jobs ask for up to 2000 MB (learn)
    mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
    ctld_port=${LINDIFF_SLURMCTLD_PORT:-$(free_port 6817)}
    slurmd_port=${LINDIFF_SLURMD_PORT:-$(free_port 6818 "$ctld_port")}
    echo "$NODE" >"$DIR/node"
    cat >"$DIR/slurm.conf" <<EOF
# One-node test cluster written by $PROG (lindiff). Not for production.
ClusterName=lindiff
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
MailProg=/bin/true
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket.2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# the node's config is this file's, whatever slurmd detects (VMs, containers)
SlurmdParameters=config_overrides
ReturnToService=2
# keep finished jobs visible to squeue (the executor's status queries) for an hour
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=lindiff Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munged() {
    local m=$DIR/munge
    mkdir -p "$m"
    chmod 0755 "$m"   # munged wants no group/other write access; the key itself is 0400
    if [ ! -s "$m/munge.key" ]; then
        # a private key for this cluster only (1024 random bytes, as mungekey makes)
        (umask 077 && dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none)
    fi
    chmod 0400 "$m/munge.key"
    pid_alive "$DIR/run/munged.pid" munged && { log "munged already running"; return 0; }
    log "starting munged"
    munged --force --socket="$m/munge.socket.2" --key-file="$m/munge.key" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$m/munged.seed" \
        || die "munged failed to start (see $DIR/log/munged.log)"
    wait_for "$START_TIMEOUT" "munged" munge_roundtrip || die "munge does not answer on $m/munge.socket.2"
}

munge_roundtrip() {
    munge -n -S "$DIR/munge/munge.socket.2" | unmunge -S "$DIR/munge/munge.socket.2" >/dev/null
}

start_slurm() {
    if pid_alive "$DIR/run/slurmctld.pid" slurmctld; then
        log "slurmctld already running"
    else
        log "starting slurmctld"
        # -c: clean start (no saved jobs/nodes), -i: ignore state file errors
        slurmctld -f "$DIR/slurm.conf" -c -i || { show_logs; die "slurmctld failed to start"; }
    fi
    wait_for "$START_TIMEOUT" "slurmctld to answer" scontrol ping \
        || { show_logs; die "slurmctld does not answer"; }
    if pid_alive "$DIR/run/slurmd.pid" slurmd; then
        log "slurmd already running"
    else
        log "starting slurmd"
        slurmd -f "$DIR/slurm.conf" -N "$NODE" || { show_logs; die "slurmd failed to start"; }
    fi
    wait_for "$START_TIMEOUT" "node $NODE to be idle" node_idle || {
        sinfo -N -l >&2 || true
        show_logs
        die "node $NODE did not become idle"
    }
}

cmd_start() {
    [ "$(id -u)" -eq 0 ] || die "start needs root (SlurmUser=root; slurmd runs jobs as their submitter)"
    install_slurm
    resolve_dir "${1:-}" create
    mkdir -p "$DIR"/{state,spool,log,run}
    export SLURM_CONF=$DIR/slurm.conf
    # on any failure below, stop whatever this start has launched
    trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed: stopping what was started"; cmd_stop "$DIR" || true; fi' EXIT
    if ! pid_alive "$DIR/run/slurmctld.pid" slurmctld; then
        write_config
    fi
    write_srun_shim
    start_munged
    start_slurm
    trap - EXIT
    log "cluster up: $(sinfo -h -o '%P %D %t %c CPUs %m MB' | head -n1) ($DIR)"
    print_env
}

# --------------------------------------------------------------------------- stop / status

stop_daemon() {  # stop_daemon NAME: SIGTERM the recorded PID, SIGKILL after 15 s
    local name=$1 pidfile=$DIR/run/$1.pid pid i
    pid=$(recorded_pid "$pidfile")
    if ! proc_is "$pid" "$name"; then
        rm -f "$pidfile"
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do
        proc_is "$pid" "$name" || break
        sleep 0.5
    done
    if proc_is "$pid" "$name"; then
        log "$name (pid $pid) ignored SIGTERM: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
}

cancel_jobs() {
    # jobs of this cluster only (SLURM_CONF points at it); their steps end with them
    local jobs
    pid_alive "$DIR/run/slurmctld.pid" slurmctld || return 0
    jobs=$(timeout 10 squeue -h -t PENDING,RUNNING,CONFIGURING,COMPLETING -o '%i' 2>/dev/null | tr '\n' ' ') || true
    if [ -n "${jobs// /}" ]; then
        log "cancelling jobs: $jobs"
        # shellcheck disable=SC2086
        timeout 10 scancel $jobs 2>/dev/null || true
        wait_for 15 "jobs to end" no_active_jobs || true
    fi
}

no_active_jobs() {
    [ -z "$(squeue -h -t PENDING,RUNNING,CONFIGURING,COMPLETING -o '%i' 2>/dev/null)" ]
}

cmd_stop() {
    resolve_dir "${1:-}"
    export SLURM_CONF=$DIR/slurm.conf
    [ -f "$SLURM_CONF" ] && cancel_jobs
    # slurmd first (it reports to slurmctld), munged last (both authenticate through it)
    stop_daemon slurmd
    stop_daemon slurmctld
    stop_daemon munged
    log "stopped ($DIR)"
}

cmd_status() {
    resolve_dir "${1:-}"
    export SLURM_CONF=$DIR/slurm.conf
    local name rc=0
    for name in munged slurmctld slurmd; do
        if pid_alive "$DIR/run/$name.pid" "$name"; then
            echo "$name: running (pid $(cat "$DIR/run/$name.pid"))"
        else
            echo "$name: not running"; rc=1
        fi
    done
    if [ $rc -eq 0 ]; then
        timeout 10 sinfo -N -l || rc=1
        timeout 10 squeue --states=all -o '%.8i %.10T %.20k %.40j' || rc=1
    fi
    return $rc
}

# --------------------------------------------------------------------------- main

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    env) shift; resolve_dir "${1:-}"; print_env ;;
    status) shift; cmd_status "$@" ;;
    -h|--help|help|"") usage ;;
    *) log "unknown command: $1"; usage ;;
esac

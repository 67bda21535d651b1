#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, from Debian's packages (slurm-wlm, munge), for
# test/harness/slurm.test.ts: `cluster.sh start DIR` writes DIR/slurm.conf, starts munged, slurmctld and
# slurmd on this host's name, and waits until the node is idle; `cluster.sh stop DIR` stops them.
# Needs root (these machines run as root). Slurm commands then need SLURM_CONF=DIR/slurm.conf.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a directory for the configuration and state of the cluster}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

stop() {
  [ -f "$dir/slurmd.pid" ] && kill "$(cat "$dir/slurmd.pid")" 2>/dev/null || true
  [ -f "$dir/slurmctld.pid" ] && kill "$(cat "$dir/slurmctld.pid")" 2>/dev/null || true
  sleep 1
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi

host=$(hostname -s)
cpus=$(nproc)
kib=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
mem=$((kib / 1024 - 512))
mkdir -p "$dir/spool/ctld" "$dir/spool/d" "$dir/log"
cat > "$conf" <<CONF
ClusterName=migbench
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# munge: one daemon per host; Debian's package made its key.
if ! pgrep -x munged > /dev/null; then
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  if id munge > /dev/null 2>&1; then
    su -s /bin/sh munge -c 'munged' || munged --force
  else
    munged --force
  fi
fi
stop
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
  if [ "$state" = idle ]; then
    echo "slurm: node $host idle"
    exit 0
  fi
  sleep 1
done
echo "slurm: the node did not come up; slurmctld and slurmd logs follow" >&2
tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
exit 1

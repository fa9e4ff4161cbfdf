#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (root needed): munge, MariaDB,
# slurmdbd (accounting: without it submitit never notices a failed job),
# slurmctld and slurmd, bound to 127.0.0.1, without systemd or cgroups
# (proctrack/linuxproc, task/none). Everything lives in $SLURM_SCRATCH; each
# daemon's PID is kept there for stop.sh. Prints the line to source:
#   export SLURM_CONF=$SLURM_SCRATCH/slurm.conf
set -euo pipefail
S=${SLURM_SCRATCH:-/tmp/parksim-slurm}
mkdir -p "$S"
S=$(cd "$S" && pwd)

if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null \
    || ! command -v mariadbd >/dev/null || ! command -v munged >/dev/null; then
  # apt's progress goes to stderr: stdout is the line the caller evaluates
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    slurm-wlm slurmdbd mariadb-server munge >&2
fi

mkdir -p "$S"/{log,state,spool,db,munge} /run/munge
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local t=$1 what=$2; shift 2
  for _ in $(seq $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "start.sh: $what did not come up; logs in $S/log" >&2; exit 1
}

# munge: a fresh key, the default socket (/run/munge/munge.socket.2)
[ -f "$S/munge/munge.key" ] || dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$S/munge/munge.key"
munged --force --key-file="$S/munge/munge.key" --pid-file="$S/munge/munged.pid" \
  --log-file="$S/log/munged.log" --seed-file="$S/munge/munged.seed"
wait_for 10 munge munge -n
cat "$S/munge/munged.pid" > "$S/munged.pid"

# MariaDB on 127.0.0.1:3307, data in the scratch dir
if [ ! -d "$S/db/mysql" ]; then
  mariadb-install-db --user=root --datadir="$S/db" --auth-root-authentication-method=normal \
    >"$S/log/mariadb-install.log" 2>&1
fi
mariadbd --user=root --datadir="$S/db" --socket="$S/mysql.sock" --bind-address=127.0.0.1 \
  --port=3307 --pid-file="$S/mariadbd.pid" --log-error="$S/log/mariadb.log" \
  --skip-name-resolve >/dev/null 2>&1 &
wait_for 30 MariaDB mariadb --socket="$S/mysql.sock" -uroot -e "select 1"
mariadb --socket="$S/mysql.sock" -uroot -e "
  CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"

cat > "$S/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
LogFile=$S/log/slurmdbd.log
PidFile=$S/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3307
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
CONF
chmod 600 "$S/slurmdbd.conf"

cat > "$S/slurm.conf" <<CONF
ClusterName=parksim
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
JobCompType=jobcomp/none
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf"

slurmdbd  # reads slurmdbd.conf beside $SLURM_CONF
wait_for 30 slurmdbd sacctmgr -n list cluster
sacctmgr -i add cluster parksim >/dev/null 2>&1 || true
slurmctld -f "$S/slurm.conf"
wait_for 30 slurmctld scontrol ping
slurmd -f "$S/slurm.conf" -N localhost
wait_for 30 "the node" sh -c 'sinfo -h -N -o %t | grep -Eq "^(idle|mix|alloc)"'
echo "export SLURM_CONF=$S/slurm.conf"

#!/usr/bin/env bash
# A real single-node Slurm on loopback for CI and tests: start | stop | status.
#
# Node "localhost" with 2 CPUs, Gres=qpu:2 and the cluster license orca_pt:2; accounting through
# slurmdbd + MariaDB (no network), which submitit needs to notice cancelled jobs. Everything it
# writes (configs, state, logs, database) lives under $QNN_SLURM_DIR (default /tmp/qnn-slurm);
# /etc/slurm/slurm.conf becomes a link to the config there when that path is free, so sinfo,
# sbatch and submitit work without SLURM_CONF. Needs root and the Debian packages
#   apt-get install -y slurm-wlm munge mariadb-server slurmdbd
# "start" is idempotent (a running cluster is left alone) and takes a few seconds;
# "stop" stops only the daemons this script started (their pid files are in the state folder).
set -euo pipefail

STATE=${QNN_SLURM_DIR:-/tmp/qnn-slurm}
CONF=$STATE/etc/slurm.conf
SYSTEM_CONF=/etc/slurm/slurm.conf
export SLURM_CONF=$CONF
export MYSQL_UNIX_PORT=$STATE/mysql/mysqld.sock

say() { echo "slurm.sh: $*" >&2; }

wait_for() {  # wait_for SECONDS DESCRIPTION LOG COMMAND...: poll COMMAND every 0.2 s
  local seconds=$1 what=$2 log=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      say "$what did not come up within ${seconds}s; last lines of $log:"
      tail -n 20 "$log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

pidfile() {  # mariadbd runs as mysql and keeps its files in its own folder
  if [ "$1" = mariadb ]; then echo "$STATE/mysql/mariadb.pid"; else echo "$STATE/$1.pid"; fi
}

running() {  # running NAME: the daemon with pid file $(pidfile NAME) is alive
  local file
  file=$(pidfile "$1")
  [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null
}

write_configs() {
  mkdir -p "$STATE"/{etc,ctld,d,log,mysql}
  cat >"$CONF" <<EOF
# Written by .ci/slurm.sh: a single-node cluster on loopback.
ClusterName=qnn
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# cgroup tracking fails in containers and silently empties job output.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Schedule cores, not whole nodes.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=qpu
Licenses=orca_pt:2
# Fast round trips: schedule at once, kill 5 s after SIGTERM (default 30 s).
SchedulerParameters=batch_sched_delay=0
KillWait=5
MinJobAge=300
ReturnToService=2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 Gres=qpu:2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  # One line and one (placeholder) file per QPU: only then does "scontrol show job -d" name
  # the units a job holds (GRES=qpu:1(IDX:1)); a bare Count=2 shows just qpu(CNT:1).
  mkdir -p "$STATE/qpu"
  : >"$STATE/etc/gres.conf"
  for i in 0 1; do
    touch "$STATE/qpu/pt$i"
    echo "NodeName=localhost Name=qpu File=$STATE/qpu/pt$i" >>"$STATE/etc/gres.conf"
  done
  cat >"$STATE/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$STATE/etc/slurmdbd.conf"
}

link_system_conf() {
  # Client commands read /etc/slurm/slurm.conf unless SLURM_CONF is set: point it here, but
  # never replace a configuration someone else wrote.
  if [ -L "$SYSTEM_CONF" ] || [ ! -e "$SYSTEM_CONF" ]; then
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -sfn "$CONF" "$SYSTEM_CONF"
  else
    say "$SYSTEM_CONF exists and is not ours: export SLURM_CONF=$CONF to use this cluster"
  fi
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return 0  # a munged is already serving
  fi
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  runuser -u munge -- munged --force
  touch "$STATE/munge.ours"
  wait_for 10 munged /var/log/munge/munged.log sh -c 'munge -n | unmunge'
}

start_mariadb() {
  running mariadb && return 0
  local data=$STATE/mysql/data
  chown mysql:mysql "$STATE/mysql"
  if [ ! -d "$data/mysql" ]; then
    mariadb-install-db --user=mysql --datadir="$data" --skip-test-db \
      >"$STATE/log/mariadb-install.log" 2>&1
  fi
  # No TCP at all: slurmdbd talks to it through the socket named by MYSQL_UNIX_PORT.
  mariadbd --user=mysql --datadir="$data" --socket="$MYSQL_UNIX_PORT" --skip-networking \
    --pid-file="$(pidfile mariadb)" --log-error="$STATE/mysql/mariadb.log" \
    --innodb-buffer-pool-size=16M --skip-log-bin >/dev/null 2>&1 &
  wait_for 30 mariadb "$STATE/mysql/mariadb.log" \
    mariadb-admin --socket="$MYSQL_UNIX_PORT" ping
}

start() {
  [ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
  for cmd in slurmctld slurmd slurmdbd munged mariadbd sinfo; do
    command -v "$cmd" >/dev/null || {
      say "$cmd not found: apt-get install -y slurm-wlm munge mariadb-server slurmdbd"
      exit 1
    }
  done
  if running slurmctld && running slurmd && sinfo -h >/dev/null 2>&1; then
    link_system_conf
    say "already running (state in $STATE)"
    return 0
  fi
  write_configs
  link_system_conf
  start_munge
  start_mariadb
  running slurmdbd || slurmdbd
  wait_for 30 slurmdbd "$STATE/log/slurmdbd.log" sacctmgr -n list cluster
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx qnn; then
    sacctmgr -i add cluster qnn >/dev/null
  fi
  running slurmctld || slurmctld
  wait_for 30 slurmctld "$STATE/log/slurmctld.log" scontrol ping
  running slurmd || slurmd -N localhost
  wait_for 30 "node localhost" "$STATE/log/slurmd.log" \
    sh -c 'sinfo -h -n localhost -o %T | grep -Eq "^(idle|mixed|allocated)"'
  say "running: $(sinfo -h -o '%P %D %T %G') licenses $(scontrol -o show lic | tr '\n' ' ')"
}

stop_daemon() {  # stop_daemon NAME: TERM, then KILL after 10 s
  running "$1" || return 0
  local pid
  pid=$(cat "$(pidfile "$1")")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$1 ignored SIGTERM for 10 s: killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$(pidfile "$1")"
}

stop() {
  # Jobs first, so no job outlives its daemons.
  if running slurmctld; then
    scancel --user=root >/dev/null 2>&1 || true
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon slurmdbd
  stop_daemon mariadb
  if [ -f "$STATE/munge.ours" ] && [ -f /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    rm -f "$STATE/munge.ours"
  fi
  if [ -L "$SYSTEM_CONF" ] && [ "$(readlink "$SYSTEM_CONF")" = "$CONF" ]; then
    rm -f "$SYSTEM_CONF"
  fi
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo && scontrol -o show lic ;;
  *) echo "usage: $0 start|stop|status  (state in \$QNN_SLURM_DIR, default /tmp/qnn-slurm)" >&2
     exit 2 ;;
esac

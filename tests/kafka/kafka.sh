#!/usr/bin/env bash
# tests/kafka/kafka.sh - a real, throwaway, single-node Apache Kafka broker
# (KRaft, combined broker+controller, 127.0.0.1 only) for kafkatee-pipe's tests.
#
# usage: kafka.sh fetch                    resolve the broker's jars into ${BUILD}/kafka/lib
#        kafka.sh start                    start a fresh broker, print its bootstrap
#        kafka.sh stop                     stop it (TERM, then KILL) and delete its data
#        kafka.sh kill                     SIGKILL it, keep data and ports (for restart)
#        kafka.sh restart                  start the same broker again (same ports, same data)
#        kafka.sh create-topic NAME PARTITIONS [KEY=VALUE...]
#        kafka.sh partitions NAME          print a topic's partition count
#        kafka.sh delete-topic NAME
#        kafka.sh topics                   list topics
#        kafka.sh bootstrap                print the bootstrap (127.0.0.1:PORT)
#        kafka.sh status                   "running BOOTSTRAP PID" (exit 0) or "stopped" (exit 1)
#        kafka.sh log [N]                  last N (default 60) lines of the broker log
#
# exit codes: 0 ok; 77 skip (java/javac/mvn/kcat missing, or the jars cannot be
# fetched, e.g. Maven Central unreachable) with the reason on stderr in a line
# starting "kafka.sh: SKIP: "; 1 any other failure (start failures print the
# tail of the broker log); 2 usage.
#
# environment:
#   BUILD               build dir (default <repo>/build); everything lives in $BUILD/kafka
#   KAFKA_M2            maven local repository (default $BUILD/kafka/m2)
#   KAFKA_FETCH_TIMEOUT seconds allowed for the one-off mvn fetch (default 300)
#   KAFKA_VERSION       Kafka version to fetch (default: the one pinned in pom.xml)
#   KAFKA_STATE_DIR     where this broker's state (bootstrap, pid, workdir) is kept;
#                       default $BUILD/kafka/state/${KAFKA_ID:-default}. Give each
#                       concurrently running broker its own (or its own KAFKA_ID).
#   KAFKA_ID            see above
#   KAFKA_START_TIMEOUT seconds to wait for readiness (default 90)
#   KAFKA_STOP_GRACE    seconds between SIGTERM and SIGKILL on stop (default 30)
#   KAFKA_HEAP_OPTS     default "-Xms128m -Xmx512m"
#   KAFKA_JVM_PERFORMANCE_OPTS  default "-XX:+UseSerialGC -XX:TieredStopAtLevel=1
#                       -XX:+ExitOnOutOfMemoryError" (C1 only: half the start-up CPU)
#   KAFKA_JVM_OPTS      extra JVM options
#   KAFKA_EXTRA_PROPS   extra server.properties lines (newline separated),
#                       appended last so they override the defaults
#   KAFKA_MAX_LIFETIME  a watchdog SIGTERMs (then SIGKILLs) a broker still running
#                       after this many seconds, so a test run that dies without
#                       "stop" leaves nothing behind (default 3600, 0 = never)
#   KAFKA_PORT, KAFKA_CONTROLLER_PORT  fixed ports instead of free random ones
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
KDIR=$BUILD/kafka
LIB=$KDIR/lib
M2=${KAFKA_M2:-$KDIR/m2}
STATE=${KAFKA_STATE_DIR:-$KDIR/state/${KAFKA_ID:-default}}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_GRACE=${KAFKA_STOP_GRACE:-30}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
# C1 only: halves the CPU a start-up costs (about 8 s -> 4 s of CPU on 2 cores);
# a test broker never runs long enough to profit from C2
PERF_OPTS=${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError}
MAX_LIFETIME=${KAFKA_MAX_LIFETIME:-3600}
READY_TOPIC=__kafka_sh_ready
TOOL_OPTS=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m)

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

# ---------------------------------------------------------------- fetch

fetch_stamp() {
    # what the current lib/ must have been made from
    local v=${KAFKA_VERSION:-pom}
    echo "$v $(cat "$HERE/pom.xml" "$HERE/KafkaAdmin.java" | cksum | cut -d' ' -f1)"
}

fetch_ok() {
    [ -f "$LIB/.stamp" ] && [ "$(cat "$LIB/.stamp")" = "$(fetch_stamp)" ] &&
        [ -f "$LIB/classes/KafkaAdmin.class" ]
}

cmd_fetch() {
    command -v java >/dev/null 2>&1 || skip "java not found (need a Java 17+ runtime for the Kafka broker)"
    fetch_ok && return 0
    command -v mvn >/dev/null 2>&1 || skip "mvn not found (needed once to fetch the Kafka jars from Maven Central)"
    command -v javac >/dev/null 2>&1 || skip "javac not found (need a JDK, not just a JRE, to build the topic admin helper)"
    mkdir -p "$KDIR"
    # one fetch at a time (two test files may start brokers at once)
    exec 9>"$KDIR/.fetch.lock"
    flock 9
    if fetch_ok; then exec 9>&-; return 0; fi
    local tmp log=$KDIR/fetch.log
    tmp=$(mktemp -d "$KDIR/lib.new.XXXXXX")
    if ! timeout "${KAFKA_FETCH_TIMEOUT:-300}" mvn -q -B -Dstyle.color=never \
            -f "$HERE/pom.xml" -Dmaven.repo.local="$M2" \
            ${KAFKA_VERSION:+-Dkafka.version="$KAFKA_VERSION"} \
            org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
            -DoutputDirectory="$tmp" \
            </dev/null >"$log" 2>&1; then
        tail -n 15 "$log" | awk '{ gsub(/\033\[[0-9;]*m/, "") } !/^(\[ERROR\] *)?$/ { print "  mvn: " $0 }' >&2
        rm -rf "$tmp"
        skip "could not fetch the Kafka${KAFKA_VERSION:+ $KAFKA_VERSION} jars with mvn (Maven Central unreachable?); log: $log"
    fi
    if ! ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1; then
        rm -rf "$tmp"
        die "mvn succeeded but no kafka_2.13 jar in the result; log: $log"
    fi
    if ! javac -nowarn -d "$tmp/classes" -cp "$tmp/*" "$HERE/KafkaAdmin.java" >>"$log" 2>&1; then
        tail -n 15 "$log" >&2
        rm -rf "$tmp"
        die "could not compile KafkaAdmin.java against the fetched kafka-clients; log: $log"
    fi
    fetch_stamp >"$tmp/.stamp"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    exec 9>&-
}

# ---------------------------------------------------------------- helpers

cp_broker() { echo "$LIB/*"; }
cp_admin() { echo "$LIB/*:$LIB/classes"; }

st_get() { if [ -f "$STATE/$1" ]; then cat "$STATE/$1"; fi; }
st_put() { mkdir -p "$STATE"; printf '%s\n' "$2" >"$STATE/$1.tmp"; mv "$STATE/$1.tmp" "$STATE/$1"; }

# is PID a live (not zombie) process whose command line contains STRING?
pid_is() {
    local pid=$1 want=$2 stat cmd
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    stat=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$stat" != Z ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    case $cmd in *"$want"*) return 0 ;; esac
    return 1
}

# the broker of this state dir, if it runs: its java has our workdir on its command line
broker_pid() {
    local pid work
    pid=$(st_get pid)
    work=$(st_get workdir)
    [ -n "$pid" ] && [ -n "$work" ] && pid_is "$pid" "kafka.Kafka $work/" && echo "$pid"
    return 0
}

wait_gone() { # PID SECONDS -> 0 if gone in time
    local pid=$1 n=$(($2 * 10))
    while [ $n -gt 0 ]; do
        pid_is "$pid" "kafka.Kafka" || return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

port_free() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] || return 1
    fi
    ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
}

pick_port() { # below the Linux ephemeral range (32768+), so no client socket takes it meanwhile
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        [ "$p" != "${1:-}" ] || continue
        if port_free "$p"; then echo "$p"; return 0; fi
    done
    die "no free port found"
}

kill_watchdog() {
    local w
    w=$(st_get watchdog)
    if [ -n "$w" ] && pid_is "$w" "kafka.sh"; then kill "$w" 2>/dev/null || true; fi
    rm -f "$STATE/watchdog"
}

# Closes every inherited fd above 2: a test's FIFO held open by the broker
# would keep the program under test from ever seeing end of input, and
# bats waits for fd 3 to close before it ends a test.
close_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    return 0
}

# launch java for the broker in $1 (workdir); records pid and a watchdog
launch() {
    local work=$1 pid
    # fds 3-9 are closed: bats waits for fd 3 to close before it ends a test
    (
        close_fds
        cd "$work"
        # shellcheck disable=SC2086
        exec java $HEAP_OPTS $PERF_OPTS \
            -Djava.awt.headless=true \
            -Dlog4j2.configurationFile="$HERE/log4j2-broker.properties" \
            -Dkafka.logs.dir="$work" \
            ${KAFKA_JVM_OPTS:-} \
            -cp "$(cp_broker)" kafka.Kafka "$work/server.properties"
    ) </dev/null >>"$work/stdout.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    pid=$!
    st_put pid "$pid"
    echo "$pid" >"$work/broker.pid"
    if [ "$MAX_LIFETIME" -gt 0 ] 2>/dev/null; then
        (
            close_fds
            end=$((SECONDS + MAX_LIFETIME))
            while pid_is "$pid" "kafka.Kafka $work/"; do
                if [ $SECONDS -ge "$end" ]; then
                    echo "kafka.sh watchdog: KAFKA_MAX_LIFETIME=$MAX_LIFETIME s reached, stopping broker $pid" >>"$work/stdout.log"
                    kill -TERM "$pid" 2>/dev/null
                    wait_gone "$pid" 20 || kill -KILL "$pid" 2>/dev/null
                    exit 0
                fi
                sleep 2
            done
        ) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        st_put watchdog "$!"
    fi
}

log_tail() {
    local work n=${1:-60}
    work=$(st_get workdir)
    [ -n "$work" ] || { say "no broker state in $STATE"; return 0; }
    if [ -s "$work/stdout.log" ]; then
        echo "---- $work/stdout.log (tail)" >&2
        tail -n 20 "$work/stdout.log" >&2
    fi
    if [ -f "$work/server.log" ]; then
        echo "---- $work/server.log (tail -n $n)" >&2
        tail -n "$n" "$work/server.log" >&2
    fi
    echo "----" >&2
}

# wait until the broker answers metadata and a record can be produced
# (idempotent, acks=all) and consumed back; 0 ready, 1 died, 2 timed out
wait_ready() {
    local bs=$1 pid=$2 deadline=$((SECONDS + START_TIMEOUT)) token stage=metadata err
    token="ready-$$-$RANDOM-$(date +%s%N)"
    err=$(st_get workdir)/ready.err
    while [ $SECONDS -lt $deadline ]; do
        pid_is "$pid" "kafka.Kafka" || return 1
        case $stage in
        metadata)
            if timeout 10 kcat -L -b "$bs" -m 3 >/dev/null 2>"$err"; then stage=produce; continue; fi
            ;;
        produce)
            if printf '%s\n' "$token" | timeout 25 kcat -P -q -b "$bs" -t "$READY_TOPIC" \
                    -X enable.idempotence=true -X acks=all -X message.timeout.ms=20000 2>"$err"; then
                stage=consume; continue
            fi
            ;;
        consume)
            if timeout 20 kcat -C -q -b "$bs" -t "$READY_TOPIC" -o beginning -e 2>"$err" | grep -qx "$token"; then
                return 0
            fi
            ;;
        esac
        sleep 0.3
    done
    say "not ready after ${START_TIMEOUT}s (stuck at: $stage); last kcat error:"
    tail -n 5 "$err" >&2 2>/dev/null || true
    return 2
}

write_config() { # WORK PORT CPORT
    local work=$1 port=$2 cport=$3
    mkdir -p "$work/data"
    cat >"$work/server.properties" <<EOF
# written by tests/kafka/kafka.sh
process.roles=broker,controller
node.id=1
# dynamic KRaft quorum (KIP-853): formatted with --standalone, which refuses
# controller.quorum.voters; the controller finds itself via bootstrap.servers
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$work/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# after a SIGKILL the restarted node's broker half is refused
# (DUPLICATE_BROKER_REGISTRATION) until the old incarnation's session expires:
# 9 s by default, which is most of a restart; keep it short
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
EOF
    if [ -n "${KAFKA_EXTRA_PROPS:-}" ]; then
        printf '%s\n' "# KAFKA_EXTRA_PROPS" "$KAFKA_EXTRA_PROPS" >>"$work/server.properties"
    fi
}

format_storage() { # WORK
    local work=$1 id
    # what "kafka-storage.sh random-uuid" prints (16 random bytes, base64url,
    # no padding, not starting with '-'), without paying for another JVM start
    id=-
    while [ "${id#-}" != "$id" ]; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    done
    echo "$id" >"$work/cluster.id"
    java "${TOOL_OPTS[@]}" -Dlog4j2.configurationFile="$HERE/log4j2-tools.properties" -cp "$(cp_broker)" \
        kafka.tools.StorageTool format -t "$id" -c "$work/server.properties" --standalone \
        >>"$work/format.log" 2>&1 ||
        { cat "$work/format.log" >&2; die "StorageTool format failed"; }
}

cleanup_state() {
    local work
    kill_watchdog
    work=$(st_get workdir)
    case $work in "$KDIR"/tmp/broker.*) rm -rf "$work" ;; esac
    rm -f "$STATE/pid" "$STATE/workdir" "$STATE/bootstrap" "$STATE/port" "$STATE/controller_port" "$STATE/watchdog"
    rmdir "$STATE" 2>/dev/null || true
}

# ---------------------------------------------------------------- commands

cmd_start() {
    command -v java >/dev/null 2>&1 || skip "java not found (need a Java 17+ runtime for the Kafka broker)"
    command -v kcat >/dev/null 2>&1 || skip "kcat not found (used to check the broker is ready)"
    cmd_fetch
    local pid attempt work port cport bs t0=$SECONDS rc
    pid=$(broker_pid)
    [ -z "$pid" ] || die "a broker already runs for $STATE (pid $pid, $(st_get bootstrap)); stop it first or set KAFKA_STATE_DIR/KAFKA_ID"
    cleanup_state # stale state from a run that died
    mkdir -p "$KDIR/tmp" "$STATE"
    for attempt in 1 2 3; do
        work=$(mktemp -d "$KDIR/tmp/broker.XXXXXX")
        st_put workdir "$work"
        port=${KAFKA_PORT:-$(pick_port)}
        cport=${KAFKA_CONTROLLER_PORT:-$(pick_port "$port")}
        bs=127.0.0.1:$port
        st_put port "$port"
        st_put controller_port "$cport"
        st_put bootstrap "$bs"
        write_config "$work" "$port" "$cport"
        format_storage "$work"
        launch "$work"
        pid=$(st_get pid)
        rc=0
        wait_ready "$bs" "$pid" || rc=$?
        if [ $rc = 0 ]; then
            echo "started in $((SECONDS - t0))s: pid $pid, $bs, $work" >"$work/started"
            echo "$bs"
            return 0
        fi
        if [ $rc = 1 ] && [ $attempt -lt 3 ] && [ -z "${KAFKA_PORT:-}${KAFKA_CONTROLLER_PORT:-}" ] &&
            grep -q -i "address already in use" "$work/server.log" "$work/stdout.log" 2>/dev/null; then
            say "port $port or $cport was taken meanwhile; retrying on other ports"
            cleanup_state
            mkdir -p "$STATE"
            continue
        fi
        [ $rc = 1 ] && say "the broker process (pid $pid) exited during start-up"
        log_tail 60
        kill -KILL "$pid" 2>/dev/null || true
        die "broker failed to start (workdir $work kept until 'kafka.sh stop')"
    done
}

cmd_stop() {
    local pid
    pid=$(broker_pid)
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$STOP_GRACE"; then
            say "broker $pid still up ${STOP_GRACE}s after SIGTERM; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 10 || die "broker $pid survives SIGKILL"
        fi
    fi
    cleanup_state
}

cmd_kill() {
    local pid
    pid=$(broker_pid)
    [ -n "$(st_get workdir)" ] || die "no broker state in $STATE (not started?)"
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "broker $pid survives SIGKILL"
    fi
    kill_watchdog
    rm -f "$STATE/pid"
}

cmd_restart() {
    command -v kcat >/dev/null 2>&1 || skip "kcat not found"
    local work pid bs rc=0
    work=$(st_get workdir)
    bs=$(st_get bootstrap)
    if [ -z "$work" ] || [ ! -f "$work/server.properties" ]; then
        die "no broker state in $STATE to restart (use start)"
    fi
    pid=$(broker_pid)
    if [ -n "$pid" ]; then # running: graceful stop first, keeping data
        kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" "$STOP_GRACE" || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 10 || true; }
    fi
    kill_watchdog
    echo "==== kafka.sh restart $(date '+%F %T')" >>"$work/stdout.log"
    launch "$work"
    pid=$(st_get pid)
    wait_ready "$bs" "$pid" || rc=$?
    if [ $rc != 0 ]; then
        [ $rc = 1 ] && say "the broker process (pid $pid) exited during restart"
        log_tail 60
        kill -KILL "$pid" 2>/dev/null || true
        die "broker failed to restart"
    fi
    echo "$bs"
}

need_running() {
    [ -n "$(broker_pid)" ] || die "no broker running for $STATE"
}

admin() {
    need_running
    java "${TOOL_OPTS[@]}" -Dlog4j2.configurationFile="$HERE/log4j2-tools.properties" \
        -cp "$(cp_admin)" KafkaAdmin "$(st_get bootstrap)" "$@"
}

usage() {
    sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch) cmd_fetch ;;
start) cmd_start ;;
stop) cmd_stop ;;
kill) cmd_kill ;;
restart) cmd_restart ;;
create-topic)
    [ $# -ge 2 ] || usage
    case $2 in '' | *[!0-9]*) usage ;; esac
    name=$1 parts=$2
    shift 2
    admin create "$name" "$parts" 1 "$@"
    ;;
partitions) [ $# = 1 ] || usage; admin partitions "$1" ;;
delete-topic) [ $# = 1 ] || usage; admin delete "$1" ;;
topics) admin list ;;
bootstrap)
    bs=$(st_get bootstrap)
    [ -n "$bs" ] || die "no broker state in $STATE"
    echo "$bs"
    ;;
status)
    pid=$(broker_pid)
    if [ -n "$pid" ]; then echo "running $(st_get bootstrap) $pid"; else echo stopped; exit 1; fi
    ;;
log) log_tail "${1:-60}" ;;
*) usage ;;
esac

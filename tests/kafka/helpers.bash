# tests/kafka/helpers.bash - bats helpers around tests/kafka/kafka.sh, which
# runs a real single-node Apache Kafka broker (KRaft) on 127.0.0.1.
#
# In a .bats file (path relative to that file):
#
#   load kafka/helpers            # or: load ../kafka/helpers, etc.
#
#   setup_file() { kafka_start; }
#   setup() { kafka_require; }      # skip each test when kafka_start found no Kafka
#   teardown_file() { kafka_stop; }
#
#   @test "..." {
#       kafka_create_topic flows 3
#       ... | kafkatee-pipe --brokers "$KAFKA_BROKERS" ...
#       run kafka_consume flows
#   }
#
# Functions:
#   kafka_start                  start a fresh broker; exports KAFKA_BROKERS=127.0.0.1:PORT.
#                                kafka.sh exit 77 (no java/mvn/kcat, jars not fetchable)
#                                becomes bats `skip` with kafka.sh's reason. In
#                                setup_file, where bats 1.8 (Debian bookworm) cannot
#                                skip (it reports "setup_file failed"), it exports
#                                KAFKA_SKIP_REASON instead and returns 0: call
#                                kafka_require in setup() to skip each test.
#   kafka_require                skip the current test if kafka_start found no Kafka
#   kafka_stop                   stop the broker and delete its data (safe if none runs)
#   kafka_kill                   SIGKILL the broker, keep data and ports
#   kafka_restart                start the same broker again (same port, same data),
#                                return once it is ready; KAFKA_BROKERS is unchanged
#   kafka_create_topic NAME PARTITIONS [KEY=VALUE...]
#                                create a topic (replication 1, optional topic configs);
#                                returns once every partition has a leader
#   kafka_partitions NAME        print the partition count of a topic
#   kafka_consume TOPIC [kcat args...]
#                                print every message now in TOPIC (all partitions) and
#                                exit: kcat -C -o beginning -e -q, extra args appended
#                                (e.g. -f '%p %k %s\n', -p 0)
#   kafka_log [N]                print the last N lines of the broker log to stderr
#
# Each .bats file gets its own broker: KAFKA_ID defaults to the test file's
# name, so files run in parallel (bats --jobs) do not share state. Set
# KAFKA_STATE_DIR or KAFKA_ID yourself to override; see kafka.sh for the rest
# (BUILD, KAFKA_EXTRA_PROPS, KAFKA_START_TIMEOUT, ...).

KAFKA_SH=${KAFKA_SH:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka.sh}
if [ -z "${KAFKA_ID:-}" ] && [ -z "${KAFKA_STATE_DIR:-}" ] && [ -n "${BATS_TEST_FILENAME:-}" ]; then
    KAFKA_ID=$(basename "$BATS_TEST_FILENAME" .bats)
fi
export KAFKA_SH
[ -z "${KAFKA_ID:-}" ] || export KAFKA_ID

kafka_start() {
    local out errf rc=0 reason
    errf=$(mktemp "${BATS_TMPDIR:-/tmp}/kafka-start.XXXXXX")
    out=$("$KAFKA_SH" start 2>"$errf") || rc=$?
    if [ "$rc" -eq 77 ]; then
        reason=$(sed -n 's/.*kafka\.sh: SKIP: //p' "$errf" | tail -n 1)
        rm -f "$errf"
        export KAFKA_SKIP_REASON="no real Kafka broker: ${reason:-kafka.sh start exited 77}"
        # in setup_file (no BATS_TEST_NAME yet) bats 1.8 cannot skip: defer to kafka_require
        [ -z "${BATS_TEST_NAME:-}" ] || skip "$KAFKA_SKIP_REASON"
        return 0
    fi
    if [ "$rc" -ne 0 ]; then
        cat "$errf" >&2
        rm -f "$errf"
        echo "kafka_start: kafka.sh start failed (exit $rc)" >&2
        return 1
    fi
    rm -f "$errf"
    unset KAFKA_SKIP_REASON
    export KAFKA_BROKERS=$out
}

kafka_require() {
    if [ -n "${KAFKA_SKIP_REASON:-}" ]; then
        skip "$KAFKA_SKIP_REASON"
    fi
}

kafka_stop() {
    "$KAFKA_SH" stop
}

kafka_kill() {
    "$KAFKA_SH" kill
}

kafka_restart() {
    local out
    out=$("$KAFKA_SH" restart) || return 1
    export KAFKA_BROKERS=$out
}

kafka_create_topic() {
    [ $# -ge 2 ] || { echo "usage: kafka_create_topic NAME PARTITIONS [KEY=VALUE...]" >&2; return 2; }
    "$KAFKA_SH" create-topic "$@"
}

kafka_partitions() {
    "$KAFKA_SH" partitions "$1"
}

kafka_consume() {
    local topic=$1
    shift
    timeout "${KAFKA_CONSUME_TIMEOUT:-60}" \
        kcat -C -b "${KAFKA_BROKERS:?kafka_start first}" -t "$topic" -o beginning -e -q "$@"
}

kafka_log() {
    "$KAFKA_SH" log "${1:-60}"
}

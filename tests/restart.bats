#!/usr/bin/env bats
# Restarts through Kafka, judged by the audit (issue 12): a clean restart
# and a SIGKILL followed by a restart are never taken for loss; the
# events lost at the kill are, when later events of the same run
# arrived; with spool.mode=always the next run sends them and the gap
# closes.  The audit reads the topic (--audit -t), checked against a kcat
# dump of it.

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
}

teardown() {
        proc_stop_all
        mock_stop
}

# audit_topic TOPIC: the --json report of the topic's events in
# $T/audit.json (--audit -t), the exit status in $audit_status; a dump of
# the topic in $T/dump, to check the report against.
audit_topic() {
        consume_values "$1" >"$T/dump"
        audit_status=0
        "$KTP" --audit -b "$BROKERS" -t "$1" --json >"$T/audit.json" ||
                audit_status=$?
}

# run_field TAG FIELD: FIELD of the report's run that carried the
# record tagged TAG (runs that start in the same second do not sort).
run_field() {
        local r

        r=$(jq -r --argjson t "$1" 'select(.tag == $t) | .sequence_run' \
                "$T/dump")
        jq -r --arg r "$r" ".runs[] | select(.sequence_run == \$r) | .$2" \
                "$T/audit.json"
}

# missing_in_dump TAG: the numbers of the run of TAG below its last one
# that no event in the dump carries, worked out with jq alone.
missing_in_dump() {
        local r

        r=$(run_field "$1" sequence_run)
        jq -n --arg r "$r" '[inputs | select(.sequence_run == $r) |
                .sequence] | unique as $seen |
                [range(1; ($seen | max) + 1)] - $seen | .[]' "$T/dump"
}

# split_topic: creates a topic of 3 partitions whose leaders are not all
# one broker (the mock picks leaders at random) and sets TOPIC to it and
# DOWN to a broker that leads some of its partitions but not all.
split_topic() {
        local i leaders

        for i in 1 2 3 4 5 6; do
                mock_cmd "topic t$i 3"
                leaders=$(timeout "$KCAT_TIMEOUT" kcat -L -b "$BROKERS" \
                        -t "t$i" | awk '$1 == "partition" { print $4 }' |
                        tr -d , | sort -u)
                [ "$(echo "$leaders" | wc -l)" -gt 1 ] || continue
                TOPIC=t$i
                DOWN=$(echo "$leaders" | head -n 1)
                return 0
        done
        return 1
}

@test "restart: a clean restart is a new run from 1, not loss" {
        mock_start -t t:3
        gen 3000 | "$KTP" -b "$BROKERS" -t t -o domain=edge1 2>"$T/err1"
        gen 2000 3001 | "$KTP" -b "$BROKERS" -t t -o domain=edge1 2>"$T/err2"
        audit_topic t
        [ "$audit_status" -eq 0 ]
        [ "$(jq .producers "$T/audit.json")" -eq 1 ]
        [ "$(jq .runs_count "$T/audit.json")" -eq 2 ]
        [ "$(jq .missing "$T/audit.json")" -eq 0 ]
        [ "$(jq .duplicates "$T/audit.json")" -eq 0 ]
        [ "$(run_field 1 events)-$(run_field 1 first)-$(run_field 1 last)" = 3000-1-3000 ]
        [ "$(run_field 3001 events)-$(run_field 3001 first)-$(run_field 3001 last)" = 2000-1-2000 ]
}

# kill_behind_a_leader [ktp options]: ktp sends 1500 events keyed by tag
# to a topic of 3 partitions, then a leader goes: its partitions' events
# wait in librdkafka (the key pins them there) while 3000 later events
# of the run reach the other partitions; then SIGKILL, and the leader is
# back.  The restart is the caller's.
kill_behind_a_leader() {
        mock_start -b 3
        split_topic
        proc_start ktp "$KTP" -b "$BROKERS" -t "$TOPIC" -o domain=edge1 \
                -o key=tag -o stats.file="$T/stats.json" \
                -o stats.interval.ms=100 "$@"
        gen 1500 | proc_send ktp
        wait_for_count "$TOPIC" 1500
        mock_cmd "down $DOWN"
        gen 3000 1501 | proc_send ktp
        # (not wait_for_count: kcat cannot query the partition that is down)
        wait_for jq -e '.read == 4500 and .delivered >= 2200' "$T/stats.json"
        if [ -d "$T/spool" ]; then
                # every line read is in the spool before it is produced
                wait_for sh -c "cat '$T'/spool/*.seg 2>/dev/null |
                        grep -c '\"tag\": 4500,' | grep -q 1"
        fi
        proc_signal ktp KILL
        proc_wait ktp 10 || true
        mock_cmd "up $DOWN"
}

@test "restart: SIGKILL mid-stream, then a restart: the events lost at the kill are missing, the restart is not" {
        kill_behind_a_leader
        gen 1000 4501 | "$KTP" -b "$BROKERS" -t "$TOPIC" -o domain=edge1 2>"$T/err2"
        audit_topic "$TOPIC"
        [ "$audit_status" -eq 3 ]
        [ "$(jq .runs_count "$T/audit.json")" -eq 2 ]
        lost=$(run_field 1 missing)
        [ "$lost" -gt 0 ]
        # each number of the run below its last is there or missing
        [ $(($(run_field 1 events) + lost)) -eq "$(run_field 1 last)" ]
        # and the missing ones are exactly those the topic lacks
        run_field 1 'gaps[] | range(.[0]; .[1] + 1)' >"$T/gaps"
        missing_in_dump 1 | diff - "$T/gaps"
        # the restart: a run of its own, whole
        [ "$(run_field 4501 events)-$(run_field 4501 missing)" = 1000-0 ]
        [ "$(jq .missing "$T/audit.json")" -eq "$lost" ]
}

@test "restart: SIGKILL with spool.mode=always, then a restart: the spool closes the gap" {
        kill_behind_a_leader -o spool.dir="$T/spool" -o spool.mode=always
        gen 1000 4501 | "$KTP" -b "$BROKERS" -t "$TOPIC" -o domain=edge1 \
                -o spool.dir="$T/spool" -o spool.mode=always 2>"$T/err2"
        counters "$T/err2"
        [ "$carried" -gt 0 ]
        audit_topic "$TOPIC"
        [ "$audit_status" -eq 0 ]
        [ "$(jq .runs_count "$T/audit.json")" -eq 2 ]
        [ "$(jq .missing "$T/audit.json")" -eq 0 ]
        # the killed run whole, under its own run id and numbers
        [ "$(run_field 1 first)-$(run_field 1 last)" = 1-4500 ]
        [ "$(run_field 4501 events)-$(run_field 4501 last)" = 1000-1000 ]
}

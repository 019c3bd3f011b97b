#!/usr/bin/env bats
# kafkatee-pipe --audit -b BROKERS -t TOPIC on librdkafka's mock cluster:
# the webrequest experiment of issue 12 through Kafka (events produced by
# kafkatee-pipe into a topic of several partitions, unkeyed, so that one
# run interleaves across them), a copy without 10000 of them, duplicates,
# a kcat dump audited as a file, --since, and the errors.
#
# AUDIT_KAFKA_EVENTS (default 100000) sets the experiment's size: the
# file takes about 10 s on the normal build, 20 s on the sanitizer build.

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
        N=${AUDIT_KAFKA_EVENTS:-100000}
}

teardown() {
        proc_stop_all
        mock_stop
}

# dump TOPIC: the values of TOPIC, one a line, partitions interleaved.
dump() {
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t "$1" \
                -o beginning -e -q -f '%s\n'
}

# produce_events TOPIC N: N events of one run by kafkatee-pipe, unkeyed.
produce_events() {
        gen "$2" | "$KTP" -b "$BROKERS" -t "$1" -o domain=cp3050.esams.wmnet \
                -o key=ip_src \
                2>"$T/produce.err"
        counters "$T/produce.err"
        [ "$delivered" -eq "$2" ]
}

# drop_random K SEED < dump: the dump without K events chosen at random
# (seeded) among numbers 1..N-1 (the end of a run cannot be judged);
# the numbers dropped into $T/removed, sorted.
drop_random() {
        awk -v k="$1" -v seed="$2" -v n="$N" -v removed="$T/removed" '
                BEGIN { srand(seed)
                        while (got < k) {
                                s = 1 + int(rand() * (n - 1))
                                if (!(s in gone)) { gone[s] = 1; got++ }
                        }
                        for (s in gone) print s | "sort -n > " removed }
                { match($0, /"sequence": [0-9]+/)
                  if (!((substr($0, RSTART + 12, RLENGTH - 12) + 0) in gone))
                          print }'
}

# by_number LO HI < dump: the events numbered LO to HI.
by_number() {
        awk -v lo="$1" -v hi="$2" '
                { match($0, /"sequence": [0-9]+/)
                  s = substr($0, RSTART + 12, RLENGTH - 12) + 0
                  if (s >= lo && s <= hi) print }'
}

@test "audit -t: the webrequest experiment: all, 10000 dropped, duplicates" {
        mock_start -t web:16 -t web-lost:16 -t web-dup:16
        produce_events web "$N"
        run "$KTP" --audit -b "$BROKERS" -t web
        [ "$status" -eq 0 ]
        [[ "$output" == *"  events $N"$'\n'* ]]
        [[ "$output" == *"total: 1 producers, 1 runs, $N events, 0 missing, 0 duplicates, 0 unreadable lines" ]]
        [[ "$output" != *"are gone"* ]] # nothing trimmed by the mock
        # every partition holds some of the run
        [ "$(watermarks web | awk '$2 > 0' | wc -l)" -eq 16 ]
        # a copy without 10000 at random: exactly those missing
        dump web >"$T/dump"
        drop_random $((N / 10)) 7 <"$T/dump" >"$T/kept"
        [ "$(wc -l <"$T/kept")" -eq $((N - N / 10)) ]
        # kcat spreads unkeyed messages at random without sticky batches
        produce web-lost -X sticky.partitioning.linger.ms=0 <"$T/kept"
        run "$KTP" --audit -b "$BROKERS" -t web-lost
        [ "$status" -eq 3 ]
        [[ "$output" != *"are gone"* ]]
        rc=0
        "$KTP" --audit -b "$BROKERS" -t web-lost --json >"$T/json" || rc=$?
        [ "$rc" -eq 3 ]
        [ "$(jq .missing "$T/json")" -eq $((N / 10)) ]
        jq -r '.runs[0].gaps[] | range(.[0]; .[1] + 1)' "$T/json" >"$T/gaps"
        cmp "$T/gaps" "$T/removed"
        # 500 events twice (numbers N-599..N-100, in the ids' window
        # whatever the order of reading), and number N-50 with another id
        { cat "$T/dump"; by_number $((N - 599)) $((N - 100)) <"$T/dump"
          by_number $((N - 50)) $((N - 50)) <"$T/dump" |
                sed 's/"id": "[^"]*"/"id": "another"/'
        } | produce web-dup -X sticky.partitioning.linger.ms=0
        run "$KTP" --audit -b "$BROKERS" -t web-dup
        [ "$status" -eq 0 ]
        [[ "$output" == *"  missing 0"$'\n'* ]]
        [[ "$output" == *"  duplicates 501: 500 same id, 1 other id, 0 not compared"* ]]
}

@test "audit -t agrees with --audit FILE on a kcat dump of the topic" {
        mock_start -t t:4
        produce_events t 3000
        # a gap, a duplicate and a message that is no event
        dump t | awk 'NR != 100' >"$T/some"
        { cat "$T/some"; sed -n 5p "$T/some"; echo 'not an event'; } |
                produce t2
        dump t2 >"$T/dump"
        run "$KTP" --audit -b "$BROKERS" -t t2 --json
        [ "$status" -eq 3 ]
        from_kafka=$output
        run "$KTP" --audit "$T/dump" --json
        [ "$status" -eq 3 ]
        diff <(echo "$from_kafka") <(echo "$output")
        [ "$(echo "$output" | jq -c '[.missing, .duplicates, .unreadable]')" = '[1,1,1]' ]
        # two topics, one audit: the run whole again
        run "$KTP" --audit -b "$BROKERS" -t t -t t2
        [ "$status" -eq 0 ]
        [[ "$output" == *"total: 1 producers, 1 runs, 6000 events, 0 missing, 3000 duplicates, 1 unreadable lines" ]]
}

@test "audit --since: a run cut by time is judged from its first number" {
        mock_start -t s:4
        # one run: numbers 1-2000 on the 23rd, 2001-4000 on the 24th
        { gen 2000; gen 2000 2001 | sed 's/2026-11-23/2026-11-24/'; } |
                "$KTP" -b "$BROKERS" -t s -o domain=h 2>"$T/err"
        counters "$T/err"
        [ "$delivered" -eq 4000 ]
        run "$KTP" --audit -b "$BROKERS" -t s --since 2026-11-24T00:00:00Z
        [ "$status" -eq 0 ]
        [[ "$output" == *"  events 2000"$'\n'"  numbers 2001-4000 "* ]]
        [[ "$output" == *"  missing 0"$'\n'* ]]
        # the same time in milliseconds; a time after all: nothing
        run "$KTP" --audit -b "$BROKERS" -t s --since 1795478400000 --json
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | jq -c '[.events, .missing, .runs[0].first]')" = '[2000,0,2001]' ]
        run "$KTP" --audit -b "$BROKERS" -t s --since 2026-11-25T00:00:00Z
        [ "$status" -eq 0 ]
        [[ "$output" == "total: 0 producers, 0 runs, 0 events, "* ]]
        # without --since the whole run, and no number missing
        run "$KTP" --audit -b "$BROKERS" -t s
        [ "$status" -eq 0 ]
        [[ "$output" == *"  events 4000"$'\n'"  numbers 1-4000 "* ]]
}

@test "audit -t: a topic being written: a finite audit, a ragged end only" {
        mock_start -t live:4
        proc_start ktp "$KTP" -b "$BROKERS" -t live -o domain=h \
                -o key=ip_src
        gen 2000 | proc_send ktp
        wait_for_count live 2000
        # numbers 1-2000 are in; more keep coming while the audit reads
        { for i in $(seq 0 99); do gen 100 $((2001 + i * 100)); sleep 0.02
          done | proc_send ktp; } &
        feeder=$!
        wait_for_count live 4000
        rc=0
        timeout 60 "$KTP" --audit -b "$BROKERS" -t live --json \
                >"$T/json" || rc=$?
        wait "$feeder"
        proc_finish ktp
        [ "$PROC_STATUS" -eq 0 ]
        # read up to the ends taken at start: 0, or 3 for the ragged end
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
        events=$(jq .events "$T/json")
        [ "$events" -ge 4000 ]
        [ "$events" -le "$(high_watermarks live)" ]
        # anything missing is after what was in before the audit started
        [ "$(jq '[.runs[0].gaps[][0] | select(. <= 2000)] | length' \
                "$T/json")" -eq 0 ]
}

@test "audit -t: empty partitions, and a topic retention trimmed" {
        mock_start -t e:6 -t trimmed:1
        produce_events e 3
        run "$KTP" --audit -b "$BROKERS" -t e
        [ "$status" -eq 0 ]
        [[ "$output" == *"total: 1 producers, 1 runs, 3 events, 0 missing"* ]]
        # the mock keeps about 5 MB a partition: the first events go
        produce_events trimmed 20000
        run "$KTP" --audit -b "$BROKERS" -t trimmed
        [ "$status" -eq 3 ]
        lo=$(timeout "$KCAT_TIMEOUT" kcat -Q -b "$BROKERS" -t trimmed:0:-2 |
                awk '{ print $NF }')
        [ "$lo" -gt 0 ]
        [[ "$output" == *"trimmed [0]: offsets 0-$((lo - 1)) are gone (retention): reading from $lo; their events show as missing in runs that go on"* ]]
        [[ "$output" == *"  missing $lo: 1-$lo"$'\n'* ]]
}

@test "audit -t: errors: unknown topic, no broker, bad --since, -t without -b" {
        mock_start -t known:1
        # the mock creates a topic asked for: it answers as a broker that
        # does not (and as Kafka to a consumer's metadata request)
        mock_cmd "topic_error unknown UNKNOWN_TOPIC_OR_PART"
        run "$KTP" --audit -b "$BROKERS" -t unknown -X socket.timeout.ms=3000
        [ "$status" -eq 1 ]
        [[ "$output" == *"--audit: unknown: Broker: Unknown topic or partition"* ]]
        # nothing listens on port 1: at most socket.timeout.ms
        run "$KTP" --audit -b 127.0.0.1:1 -t known -X socket.timeout.ms=1000
        [ "$status" -eq 1 ]
        [[ "$output" == *"--audit: known: no metadata from 127.0.0.1:1 within 1000 ms: "* ]]
        run "$KTP" --audit -b "$BROKERS" -t known --since yesterday
        [ "$status" -eq 1 ]
        [[ "$output" == *"--since: not 2026-11-30T12:00:00Z nor milliseconds since 1970: yesterday"* ]]
        run "$KTP" --audit -t known
        [ "$status" -eq 1 ]
        [[ "$output" == *"--audit: a file, or -b BROKERS and -t TOPIC"* ]]
        run "$KTP" --audit -b "$BROKERS"
        [ "$status" -eq 1 ]
        run "$KTP" --audit -b "$BROKERS" -t known -t known
        [ "$status" -eq 1 ]
        [[ "$output" == *"--audit: -t given twice: known"* ]]
        run "$KTP" --audit "$T/file" -t known
        [ "$status" -eq 1 ]
        [[ "$output" == *"--audit: a file, or -b and -t: not both"* ]]
        run "$KTP" --audit -b "$BROKERS" -t known -X nonsense
        [ "$status" -eq 1 ]
        [[ "$output" == *"-X nonsense: not key=value"* ]]
        run "$KTP" --audit -b "$BROKERS" -t known -X no.such.property=1
        [ "$status" -eq 1 ]
        # a topic of no events: exit 1, as a file of no events
        echo 'not an event' | produce known
        run "$KTP" --audit -b "$BROKERS" -t known
        [ "$status" -eq 1 ]
        [[ "$output" == *"known: no message is an event with meta.domain"* ]]
}

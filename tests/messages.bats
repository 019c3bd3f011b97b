#!/usr/bin/env bats
# Messages a daemon can live with: each librdkafka error said once, loss
# reports limited per interval (and what was not shown counted), figures
# with a sensible precision, the operator's gauges in the metrics file.

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

# fails_once FILE TEXT NAME: TEXT (a failure's words) is in FILE, and
# every line that says it is the error NAME's: none said again as a log
# line (librdkafka logs a broker's failure and sends it as an error).
fails_once() {
        local said named

        said=$(grep -cF -- "$2" "$1" || true)
        named=$(grep -F -- "$2" "$1" | grep -c "^kafkatee-pipe: kafka: $3: " ||
                true)
        [ "$said" -ge 1 ] || _fail "no '$2' in $1"
        [ "$said" -eq "$named" ] ||
                _fail "'$2': $said lines, $named as $3:" "$(cat "$1")"
        if grep -q '^kafkatee-pipe: kafka: FAIL: ' "$1"; then
                _fail "a FAIL log line:" "$(cat "$1")"
        fi
}

@test "a broker that refuses the connection: each failure said once" {
        # Port 1 on loopback: nothing listens, the connection is refused.
        gen 1 | "$KTP" -b 127.0.0.1:1 -t t -X message.timeout.ms=1500 \
                2> "$T/err" || true
        fails_once "$T/err" 'Connect to ipv4#127.0.0.1:1 failed' _TRANSPORT
        counters "$T/err"
        [ "$failed" -eq 1 ]
}

@test "a broker name that does not resolve: each failure said once" {
        # .invalid never resolves (RFC 2606), with or without a network.
        gen 1 | "$KTP" -b no-such-broker.invalid:9092 -t t \
                -X message.timeout.ms=1500 2> "$T/err" || true
        fails_once "$T/err" "Failed to resolve 'no-such-broker.invalid:9092'" \
                _RESOLVE
}

@test "a fatal error of librdkafka is said once, with its name" {
        mock_start -t t:1
        # With idempotence, a sequence desync is fatal for the producer.
        mock_cmd "errors 3 OUT_OF_ORDER_SEQUENCE_NUMBER"
        proc_start ktp "$KTP" -b "$BROKERS" -t t
        gen 20 | proc_send ktp
        wait_for_line "$(proc_file ktp err)" 'fatal: '
        proc_finish ktp 20
        [ "$PROC_STATUS" -eq 2 ]
        err=$(proc_file ktp err)
        [ "$(grep -c 'desynchronization' "$err")" -eq 1 ]
        grep -q '^kafkatee-pipe: fatal: kafka: OUT_OF_ORDER_SEQUENCE_NUMBER: ' "$err"
}

@test "the stall message says its duration in tenths of a second" {
        mock_start -t t:1
        mock_cmd "down -1"
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o stall.timeout.ms=1500
        gen 3 | proc_send ktp
        wait_for_line "$(proc_file ktp err)" 'stalled: ' 30
        for=$(sed -n 's/.*stalled: 3 records in flight, nothing delivered for \([0-9]*\.[0-9]\) s$/\1/p' \
                "$(proc_file ktp err)")
        [ -n "$for" ]
        # Said once the timeout has passed: never less than 1.5 s.
        awk -v s="$for" 'BEGIN { exit !(s >= 1.5) }'
        mock_cmd "up -1"
        proc_finish ktp 60
        [ "$PROC_STATUS" -eq 0 ]
}

# numbers_fixed FILE: no number in FILE with more than six decimals or an
# exponent (json-c's %.17g wrote 2.4981979999999999).
numbers_fixed() {
        if grep -Eo '[0-9]\.[0-9]{7,}|[0-9]e[-+]?[0-9]+' "$1"; then
                _fail "$1: a number without fixed precision"
        fi
}

@test "stats and metrics files: every number with at most six decimals" {
        mock_start -t t:1
        mock_cmd "rtt -1 50"
        gen 2000 | "$KTP" -b "$BROKERS" -t t -q -o queue.high.messages=50 \
                --stats-file "$T/s.json" --metrics-file "$T/m.prom"
        # backpressure_s and the latencies are fractions here
        jq -e '.backpressure_s > 0 and .latency_ms.sum > 0
               and .uptime_s > 0' "$T/s.json"
        numbers_fixed "$T/s.json"
        numbers_fixed "$T/m.prom"
}

# metric FILE NAME: the value of the sample NAME{...} in FILE.
metric() {
        sed -n "s/^kafkatee_pipe_$2{[^}]*} //p" "$1"
}

@test "metrics file: up, start time, build info, bytes in flight, backpressure, peak RSS" {
        mock_start -t t:1
        mock_cmd "down -1"
        before=$(date +%s)
        proc_start ktp "$KTP" -b "$BROKERS" -t t -o queue.high.messages=10 \
                --metrics-file "$T/m.prom" --stats-file "$T/s.json" \
                -o stats.interval.ms=100
        gen 50 | proc_send ktp
        # the cluster is down: 10 in flight, stdin paused
        WAIT_TIMEOUT=20 wait_for grep -qx \
                'kafkatee_pipe_backpressure{stream="netflow",topic="t"} 1' "$T/m.prom"
        cp "$T/m.prom" "$T/down.prom"
        [ "$(metric "$T/down.prom" up)" -eq 1 ]
        [ "$(metric "$T/down.prom" in_flight)" -eq 10 ]
        [ "$(metric "$T/down.prom" in_flight_bytes)" -gt 10 ]
        start=$(metric "$T/down.prom" start_time_seconds)
        awk -v s="$start" -v b="$before" -v n="$(date +%s)" \
                'BEGIN { exit !(s >= b - 1 && s <= n + 1) }'
        version=$("$KTP" -V | sed -n 's/^kafkatee-pipe \([^ ]*\) (librdkafka \([^,]*\),.*/\1 \2/p')
        grep -qx "kafkatee_pipe_build_info{stream=\"netflow\",topic=\"t\",version=\"${version% *}\",librdkafka=\"${version#* }\"} 1" \
                "$T/down.prom"
        [ "$(metric "$T/down.prom" peak_rss_bytes)" -gt 1048576 ]
        grep -qx '# TYPE kafkatee_pipe_peak_rss_bytes gauge' "$T/down.prom"
        wait_for jq -e '.up and .backpressure and .in_flight_bytes > 0
                and .version != null and .librdkafka != null
                and (.start_time | test("Z$"))' "$T/s.json"
        mock_cmd "up -1"
        proc_finish ktp 60
        [ "$PROC_STATUS" -eq 0 ]
        # the last write, at exit: not running, nothing waits
        [ "$(metric "$T/m.prom" up)" -eq 0 ]
        [ "$(metric "$T/m.prom" backpressure)" -eq 0 ]
        [ "$(metric "$T/m.prom" in_flight_bytes)" -eq 0 ]
        [ "$(metric "$T/m.prom" delivered_total)" -eq 50 ]
        jq -e '.up == false' "$T/s.json"
}

# prom_format FILE: the text exposition format, as far as a file of
# gauges, counters and a summary needs it: a HELP and a TYPE before each
# metric's samples, names as Prometheus spells them, counters named
# _total, numbers or NaN, no series twice.
prom_format() {
        awk '
        function fail(why) { printf "%s:%d: %s: %s\n", FILENAME, NR, why, $0; bad = 1 }
        /^# HELP / { help[$3] = 1; next }
        /^# TYPE / {
                if (!help[$3]) fail("TYPE before HELP")
                type[$3] = $4
                if ($4 == "counter" && $3 !~ /_total$/) fail("a counter not named _total")
                next
        }
        /^#/ { fail("a comment"); next }
        {
                name = $1; sub(/\{.*/, "", name)
                base = name; sub(/_(sum|count)$/, "", base)
                if (name !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) fail("a bad name")
                if (!(name in type) && type[base] != "summary") fail("no TYPE")
                if ($1 !~ /^[a-z_]+\{([a-z_]+="([^"\\]|\\.)*",?)*\}$/) fail("bad labels")
                if ($2 !~ /^-?[0-9]+(\.[0-9]+)?$/ && $2 != "NaN") fail("not a number")
                if (NF != 2) fail("not two fields")
                if (seen[$1]++) fail("a series twice")
        }
        END { exit bad }' "$1"
}

@test "metrics file: the text format (promtool check metrics when it is there)" {
        mock_start -t t:1
        gen 100 | "$KTP" -b "$BROKERS" -t t -q --metrics-file "$T/m.prom" \
                --stats-file "$T/s.json"
        prom_format "$T/m.prom"
        if command -v promtool > /dev/null; then
                promtool check metrics < "$T/m.prom"
        fi
}

# unshown FILE: the records the loss reports' limit left unsaid, added up.
unshown() {
        sed -n 's/^kafkatee-pipe: \([0-9]*\) more records lost, not shown .*/\1/p' \
                "$1" | awk '{ n += $1 } END { print n + 0 }'
}

@test "loss reports: 100 in a run, the rest counted by reason and said at exit" {
        mock_start -t t:1
        mock_cmd "down -1"
        # -v: the dead-lettered losses reported too; the default interval
        # (60 s) outlasts the run: its end is the run's.
        gen 150 | "$KTP" -b "$BROKERS" -t t -v --dead-letter "$T/dead" \
                -X message.timeout.ms=1000 2> "$T/err" || true
        counters "$T/err"
        [ "$failed" -eq 150 ]
        [ "$(wc -l < "$T/dead")" -eq 150 ]
        [ "$(grep -c '^kafkatee-pipe: stdin:[0-9]*: delivery: ' "$T/err")" -eq 100 ]
        [ "$(grep -c 'more records lost: over 100 in this interval' "$T/err")" -eq 1 ]
        grep -qx 'kafkatee-pipe: 50 more records lost, not shown (delivery: 50); the dead-letter file has them' "$T/err"
        # said before the summary
        grep -A1 'not shown' "$T/err" | tail -n 1 | grep -q 'summary: '
}

@test "loss reports: limited per interval, said again in the next one" {
        proc_start ktp "$KTP" --stdout -o loss.report.interval.ms=2000
        # far more than 100 at once: whatever interval they fall in, one
        # holds more than 100
        yes bad | head -n 1000 | proc_send ktp
        wait_for_line "$(proc_file ktp err)" 'more records lost, not shown \(invalid: [0-9]+\)$' 30
        # a later interval: reported again
        proc_send ktp bad bad bad
        wait_for_line "$(proc_file ktp err)" '^kafkatee-pipe: stdin:1003: invalid: '
        proc_finish ktp
        [ "$PROC_STATUS" -eq 3 ]
        err=$(proc_file ktp err)
        shown=$(grep -c '^kafkatee-pipe: stdin:[0-9]*: invalid: ' "$err")
        # every record lost is shown or counted, none twice
        [ $((shown + $(unshown "$err"))) -eq 1003 ]
        [ "$shown" -le 300 ]
        counters "$err"
        [ "$invalid" -eq 1003 ]
}

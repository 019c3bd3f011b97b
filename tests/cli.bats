#!/usr/bin/env bats
# The command line end to end, without a broker: --stdout, exit codes,
# config errors, the dead-letter file, and the traps of pmacct's JSON.

# counters: the summary as shell variables, and its invariant checked.
load records

setup() {
        ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
        KTP=${BUILD:-$ROOT/build}/kafkatee-pipe
        SAMPLES=$ROOT/examples/samples
        T=$BATS_TEST_TMPDIR
        export TZ=UTC
}

# ktp_stdout ARGS...: run with --stdout, events masked for comparison.
masked() {
        jq -c -f "$ROOT/tests/mask.jq"
}

oracle() {
        jq -n -c --arg domain test.example -f "$ROOT/tests/envelope.jq" "$1"
}

@test "-V prints its version and librdkafka's" {
        run "$KTP" -V
        [ "$status" -eq 0 ]
        [[ "$output" == kafkatee-pipe\ *librdkafka\ 2.* ]]
}

@test "-h prints usage on stdout, bad options exit 1" {
        run "$KTP" -h
        [ "$status" -eq 0 ]
        [[ "$output" == Usage:* ]]
        run "$KTP" --no-such-option
        [ "$status" -eq 1 ]
        run "$KTP" --stdout extra-argument
        [ "$status" -eq 1 ]
        [[ "$output" == *"unexpected argument 'extra-argument'"* ]]
        run "$KTP" -X novalue --stdout
        [ "$status" -eq 1 ]
}

@test "config errors name file and line, exit 1 before reading stdin" {
        printf 'stream = netflow\nbogus.key = 1\n' > "$T/bad.conf"
        run bash -c "printf 'kept\n' | { '$KTP' -c '$T/bad.conf' --stdout; echo rc=\$?; cat; }"
        [[ "$output" == *"$T/bad.conf:2: unknown key 'bogus.key'"* ]]
        [[ "$output" == *"rc=1"* ]]
        [[ "$output" == *kept* ]]
}

@test "missing config file, no brokers, unknown time zone, bad kafka property: exit 1" {
        run "$KTP" -c "$T/nonexistent.conf" --stdout </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"No such file"* ]]
        run "$KTP" </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"no brokers"* ]]
        run "$KTP" --stdout -o dt.timezone=Mars/Olympus_Mons </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"unknown time zone"* ]]
        run "$KTP" -b 127.0.0.1:1 -X no.such.property=1 </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"no.such.property"* ]]
        run "$KTP" --stdout -o topic='%{datacenter}.x' </dev/null
        [ "$status" -eq 1 ]
}

@test "dead-letter file not writable: exit 1" {
        run "$KTP" --stdout --dead-letter /nonexistent/dir/dead.jsonl </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"/nonexistent/dir/dead.jsonl"* ]]
}

@test "pmacctd sample: events equal the jq oracle, markers skipped" {
        "$KTP" --stdout -o domain=test.example < "$SAMPLES/pmacctd-lo-json.jsonl" \
                > "$T/out" 2> "$T/err"
        diff <(oracle "$SAMPLES/pmacctd-lo-json.jsonl") <(masked < "$T/out")
        counters "$T/err"
        [ "$read" -eq 62 ]
        [ "$delivered" -eq 60 ]
        [ "$skipped" -eq 2 ]
        [ "$exit" -eq 0 ]
}

@test "nfacctd epoch sample: events equal the jq oracle" {
        "$KTP" --stdout -o domain=test.example < "$SAMPLES/nfacctd-ipfix-epoch.jsonl" \
                > "$T/out" 2> "$T/err"
        diff <(oracle "$SAMPLES/nfacctd-ipfix-epoch.jsonl") <(masked < "$T/out")
        counters "$T/err"
        [ "$read" -eq 122 ]
        [ "$delivered" -eq 120 ]
        [ "$skipped" -eq 2 ]
}

@test "every event has its own UUID and an ingestion time" {
        "$KTP" --stdout -q < "$SAMPLES/nfacctd-ipfix-epoch.jsonl" > "$T/out"
        [ "$(jq -r .meta.id "$T/out" | sort -u | wc -l)" -eq 120 ]
        jq -r .meta.id "$T/out" | grep -Evq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' && false
        jq -r .meta.dt "$T/out" | grep -Evq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$' && false
        true
}

@test "invalid lines: counted, dead-lettered with a reason, exit 3, replayable" {
        {
                echo '{"event_type": "purge", "tag": 1}'
                echo 'pmacctd: shutting down'
                echo '{"tag": 2,}'
                echo '[1, 2]'
                echo '{"tag": 3, "tag": 4}'
                printf '{"label": "a\001b"}\n'
                printf '{"label": "\xff"}\n'
                echo '{"tag": 5, "timestamp_start": "2026-13-01 00:00:00"}'
                echo '{"tag": 6, "tcp_flags": "x2"}'
                echo '{"tag": 7}'
        } > "$T/in"
        run "$KTP" --stdout --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"read=10 produced=2 delivered=2 invalid=8 failed=0 skipped=0 dead_lettered=8 purge_mismatches=0 exit=3"* ]]
        [ "$(wc -l < "$T/dead")" -eq 8 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = invalid ]
        jq -r .message "$T/dead" > "$T/why"
        grep -q "not JSON: unexpected 'p' at byte 0" "$T/why"
        grep -q "not a JSON object" "$T/why"
        grep -q 'duplicate key "tag"' "$T/why"
        grep -q "control character" "$T/why"
        grep -q "invalid UTF-8" "$T/why"
        grep -q "timestamp_start: not a time" "$T/why"
        grep -q "tcp_flags: not an integer" "$T/why"
        # Replay: the raw lines come back byte for byte (valid UTF-8 ones).
        jq -r 'select(.line != 7) | .raw' "$T/dead" > "$T/replayed"
        diff "$T/replayed" <(sed -n '2,6p;8,9p' "$T/in")
        [ "$(jq -r .line "$T/dead" | tr '\n' ' ')" = "2 3 4 5 6 7 8 9 " ]
}

@test "dead-letter file stays valid JSON for non-UTF-8 lines; raw_base64 keeps the bytes" {
        printf '{"a": "\xff\xfe ok"}\n' > "$T/in"
        run "$KTP" --stdout --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        /usr/bin/python3 -c 'import json, sys; [json.loads(l.decode("utf-8")) for l in open(sys.argv[1], "rb")]' "$T/dead"
        [ "$(jq -r .raw "$T/dead")" = '{"a": "'$'\xef\xbf\xbd\xef\xbf\xbd'' ok"}' ]
        jq -r .raw_base64 "$T/dead" | base64 -d | cmp - <(head -c -1 "$T/in")
}

@test "without a dead-letter file, lost records are reported on stderr" {
        run "$KTP" --stdout <<< 'garbage'
        [ "$status" -eq 3 ]
        [[ "$output" == *"stdin:1: invalid: not JSON"* ]]
}

@test "framing: CRLF, blank lines, NUL byte, last line without newline" {
        printf '{"tag": 1}\r\n\r\n\n{"tag": 2, "x": "a\0b"}\n   \n{"tag": 3}' > "$T/in"
        run "$KTP" --stdout --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"read=6 produced=2 delivered=2 invalid=1 failed=0 skipped=3"* ]]
        [[ "${lines[0]}" == *'"tag": 1}' ]]
        [[ "${lines[1]}" == *'"tag": 3}' ]]
        [ "$(jq -r .message "$T/dead")" = "NUL byte at byte 18" ]
        [ "$(jq -r .raw "$T/dead" | od -c | grep -c '\\0')" -eq 1 ]
}

@test "an over-long line is dead-lettered, truncated, and framing recovers" {
        { echo '{"tag": 1}'; printf '{"label": "%05000d"}\n' 0; echo '{"tag": 2}'; } > "$T/in"
        run "$KTP" --stdout -o line.max=1000 --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"read=3 produced=2 delivered=2 invalid=1"* ]]
        [ "$(jq -r .reason "$T/dead")" = too_long ]
        [ "$(jq -r .truncated "$T/dead")" = true ]
        [ "$(jq -r .raw "$T/dead" | wc -c)" -eq 1001 ]
}

@test "a field name with escapes is refused: it could alias dt or event_type" {
        run "$KTP" --stdout --dead-letter "$T/dead" <<< '{"tag": 1, "\u0064t": "2000-01-01T00:00:00Z"}'
        [ "$status" -eq 3 ]
        [[ "$(jq -r .message "$T/dead")" == "field name with an escape sequence"* ]]
}

@test "unsigned 64-bit counters and big numbers round-trip byte for byte" {
        echo '{"tag": 1, "packets": 18446744073709551615, "bytes": 9007199254740993, "flows": 12345678901234567890123}' > "$T/in"
        run "$KTP" --stdout -q < "$T/in"
        [ "$status" -eq 0 ]
        [[ "$output" == *'"packets": 18446744073709551615, "bytes": 9007199254740993, "flows": 12345678901234567890123}' ]]
}

@test "dt: local time of the collector's zone to UTC, from TZ or dt.timezone" {
        line='{"tag": 1, "timestamp_start": "2026-11-23 09:33:20.731040"}'
        run env TZ=Europe/Paris "$KTP" --stdout -q <<< "$line"
        [ "$(jq -r .dt <<< "$output")" = 2026-11-23T08:33:20.731Z ]
        run "$KTP" --stdout -q -o dt.timezone=America/New_York <<< "$line"
        [ "$(jq -r .dt <<< "$output")" = 2026-11-23T14:33:20.731Z ]
        # Summer time in Paris: +02:00.
        run env TZ=Europe/Paris "$KTP" --stdout -q <<< '{"timestamp_start": "2026-07-01 12:00:00"}'
        [ "$(jq -r .dt <<< "$output")" = 2026-07-01T10:00:00.000Z ]
}

@test "dt: first non-zero source wins; zero times mean absent; fallback" {
        run "$KTP" --stdout -q <<< '{"timestamp_start": "0000-00-00 00:00:00.000000", "timestamp_arrival": "1795422833.769141"}'
        [ "$(jq -r .dt <<< "$output")" = 2026-11-23T08:33:53.769Z ]
        [ "$(jq -r 'has("timestamp_start")' <<< "$output")" = false ]
        run "$KTP" --stdout -q <<< '{"tag": 1}'
        [ "$(jq -r '.dt == .meta.dt' <<< "$output")" = true ]
        run "$KTP" --stdout -o dt.fallback=reject --dead-letter "$T/dead" <<< '{"tag": 1}'
        [ "$status" -eq 3 ]
        [[ "$(jq -r .message "$T/dead")" == "no event time"* ]]
}

@test "renames, drops, allowlist, constants, integer and time fields" {
        line='{"event_type": "purge", "ip_src": "10.0.0.1", "label": "x", "tcp_flags": "24", "tos": 0, "timestamp_arrival": "1795422833"}'
        run "$KTP" --stdout -q -o field.rename.ip_src=src_ip -o field.drop=label,tos \
                -o field.const.site=eqiad -o field.const.version=3 -o field.time= <<< "$line"
        [ "$status" -eq 0 ]
        [[ "$output" == *'"dt": "2026-11-23T08:33:53.000Z", "sequence": 1, "sequence_run": "'*'", "src_ip": "10.0.0.1", "tcp_flags": 24, "timestamp_arrival": "1795422833", "site": "eqiad", "version": 3}' ]]
        run "$KTP" --stdout -q -o field.keep=ip_src,tos <<< "$line"
        [[ "$output" == *'.000Z", "sequence": 1, "sequence_run": "'*'", "ip_src": "10.0.0.1", "tos": 0}' ]]
        run "$KTP" --stdout -o field.rename.ip_src=dt </dev/null
        [ "$status" -eq 1 ]
}

@test "envelope: --stream, --schema, domain, datacenter" {
        run "$KTP" --stdout -q --stream flows --schema /flows/1.0.0 -o domain=edge1 <<< '{"tag": 1}'
        [ "$(jq -c '[."$schema", .meta.stream, .meta.domain]' <<< "$output")" = '["/flows/1.0.0","flows","edge1"]' ]
}

@test "pmacct purge markers are checked against what was read" {
        printf '%s\n' '{"event_type": "purge_init", "writer_id": "out/1"}' \
                '{"event_type": "purge", "tag": 1}' \
                '{"event_type": "purge_close", "writer_id": "out/1", "purged_entries": 2, "total_entries": 2, "duration": 0}' > "$T/in"
        run "$KTP" --stdout < "$T/in"
        [ "$status" -eq 0 ]
        [[ "$output" == *"purge: 2 records announced, 1 read"* ]]
}

@test "pmacctd's shutdown log lines on stdout are skipped and shown, not lost" {
        printf '%s\n' '{"tag": 1}' 'NOTICE ( default/core ): +++' \
                'NOTICE ( default/core ): [lo,0] received_packets=9 dropped_packets=0' \
                'NOTICE ( default/core ): ---' 'NOTICE without the shape' > "$T/in"
        run "$KTP" --stdout --dead-letter "$T/dead" < "$T/in"
        [ "$status" -eq 3 ]
        [[ "$output" == *"read=5 produced=1 delivered=1 invalid=1 failed=0 skipped=3"* ]]
        [[ "$output" == *"pmacct: NOTICE ( default/core ): [lo,0] received_packets=9"* ]]
        [ "$(jq -r .raw "$T/dead")" = "NOTICE without the shape" ]
}

@test "-q: silent on success, summary still printed on loss" {
        run "$KTP" --stdout -q <<< '{"tag": 1}'
        [ "$output" = "$(echo "$output" | grep -v summary)" ]
        run "$KTP" --stdout -q <<< 'nope'
        [ "$status" -eq 3 ]
        [[ "$output" == *"summary:"* ]]
}

@test "stdout full: nothing counted delivered that was not written, exit 2" {
        head -n 3 "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in"
        run bash -c "'$KTP' --stdout --dead-letter '$T/dead' < '$T/in' > /dev/full"
        [ "$status" -eq 2 ]
        [[ "$output" == *"read=3 produced=2 delivered=0 invalid=0 failed=2 skipped=1"* ]]
        diff <(jq -r .raw "$T/dead") <(sed -n 2,3p "$T/in")
}

@test "SIGHUP reopens the dead-letter file (logrotate)" {
        mkfifo "$T/fifo"
        "$KTP" --stdout --dead-letter "$T/dead" < "$T/fifo" > /dev/null 2> "$T/err" &
        pid=$!
        exec 5> "$T/fifo"
        echo bad1 >&5
        for i in $(seq 50); do [ -s "$T/dead" ] && break; sleep 0.1; done
        mv "$T/dead" "$T/dead.1"
        kill -HUP "$pid"
        sleep 0.5
        echo bad2 >&5
        exec 5>&-
        wait "$pid" || [ $? -eq 3 ]
        [ "$(jq -r .raw "$T/dead.1")" = bad1 ]
        [ "$(jq -r .raw "$T/dead")" = bad2 ]
}

@test "stdout closed early: not fatal, exit 3, everything counted" {
        # Far more than a pipe buffer, so the writes meet the closed pipe.
        for i in $(seq 50); do cat "$SAMPLES/nfacctd-ipfix-epoch.jsonl"; done > "$T/in"
        "$KTP" --stdout < "$T/in" 2> "$T/err" | head -c 10 > /dev/null || true
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$read" -eq $((delivered + failed + invalid + skipped)) ]
}

@test "an empty choice is an error, not a value: exit 1" {
        for key in output timestamp dt.fallback stats.rdkafka; do
                run "$KTP" --stdout -o "$key=" </dev/null
                [ "$status" -eq 1 ]
                [[ "$output" == *"$key: '' is not one of "* ]]
        done
        run "$KTP" --stdout -o timestamp=ingest -o stats.rdkafka=true <<< '{"tag": 1}'
        [ "$status" -eq 0 ]
}

@test "deadletter.file, and dead_letter, its old name, in a config file" {
        for key in deadletter.file dead_letter; do
                printf '%s = %s\n' "$key" "$T/$key.jsonl" > "$T/c.conf"
                run "$KTP" -c "$T/c.conf" --stdout <<< 'bad'
                [ "$status" -eq 3 ]
                [ "$(jq -r .raw "$T/$key.jsonl")" = bad ]
        done
}

@test "topic: 249 characters work, 250 are refused with Kafka's limit" {
        name=$(printf 't%.0s' $(seq 249))
        run "$KTP" --stdout -q -t "$name" <<< '{"tag": 1}'
        [ "$status" -eq 0 ]
        run "$KTP" --stdout -t "${name}x" </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"topic: longer than 249 characters"* ]]
        # Expanded past any buffer: still the same clear error.
        long=$(printf 's%.0s' $(seq 2000))
        run "$KTP" --stdout -o datacenter=eqiad --stream "$long" </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"topic: longer than 249 characters"* ]]
}

@test "-o and -X names are not cut, whatever their length" {
        name=$(printf 'n%.0s' $(seq 600))
        run "$KTP" --stdout -q -o "field.const.$name=v" <<< '{"tag": 1}'
        [ "$status" -eq 0 ]
        [ "$(jq -r ".$name" <<< "$output")" = v ]
        run "$KTP" -b 127.0.0.1:1 -X "$name=1" </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"kafka.nnnn"* ]]
}

# lines N: N small valid records, tags 1..N.
lines() {
        awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"event_type\": \"purge\", \"tag\": %d, \"ip_src\": \"10.0.0.1\", \"packets\": 1}\n", i }'
}

@test "stdin closed: a clear error and exit 1, not a libev abort" {
        # Not `run ... <&-`: run's own pipe would take the free fd 0.
        status=0
        "$KTP" --stdout <&- 2> "$T/err" || status=$?
        [ "$status" -eq 1 ]
        grep -q "standard input is closed" "$T/err"
        "$KTP" -V <&- > /dev/null
}

@test "setup fails before the output is opened: fd 0 is closed by no one" {
        command -v strace > /dev/null || skip "no strace"
        run strace -f -e trace=close -o "$T/trace" "$KTP" -t t < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"no brokers"* ]]
        if grep -E '(^|[^0-9])close\(0\)' "$T/trace"; then false; fi
}

# failshim.so (LD_PRELOAD) makes an allocation or RAND_bytes fail; it
# cannot be preloaded into a sanitizer build.
shim() {
        [[ "$KTP" == *asan* ]] && skip "LD_PRELOAD into an ASan build"
        SHIM=$(dirname "$KTP")/failshim.so
        [ -f "$SHIM" ] || skip "no $SHIM: make testbin"
}

@test "no randomness for an event id: that line fails and is dead-lettered, fatal" {
        shim
        lines 300 > "$T/in"
        # 256 ids a draw, the first of which named the run (sequence):
        # the second draw fails, at line 256.
        LD_PRELOAD=$SHIM FAILSHIM_RAND_OK=1 "$KTP" --stdout \
                --dead-letter "$T/dead" < "$T/in" > "$T/out" 2> "$T/err" ||
                [ $? -eq 2 ]
        counters "$T/err"
        [ "$exit" -eq 2 ]
        [ "$read" -eq $((delivered + failed + invalid + skipped)) ]
        [ "$delivered" -eq 255 ]
        [ "$failed" -eq 45 ]
        [ "$(wc -l < "$T/dead")" -eq 45 ]
        [ "$(head -n 1 "$T/dead" | jq -r '"\(.line) \(.message)"')" = "256 no randomness for event ids" ]
        diff <(jq -r .raw "$T/dead") <(sed -n '256,$p' "$T/in")
        # no randomness at all: no run name, a start-up error
        run env LD_PRELOAD="$SHIM" FAILSHIM_RAND_OK=0 "$KTP" --stdout < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"sequence: no run name"* ]]
}

@test "out of memory for a record: that line fails and is dead-lettered, fatal" {
        shim
        {
                lines 5
                printf '{"event_type": "purge", "tag": 6, "label": "%s"}\n' \
                        "$(head -c 102400 /dev/zero | tr '\0' x)"
                lines 10 | tail -n 5
        } > "$T/in"
        # The 100 KB record's block (event + line) is the only malloc that big.
        LD_PRELOAD=$SHIM FAILSHIM_MALLOC_MIN=150000 "$KTP" --stdout \
                --dead-letter "$T/dead" < "$T/in" > "$T/out" 2> "$T/err" ||
                [ $? -eq 2 ]
        counters "$T/err"
        [ "$exit" -eq 2 ]
        [ "$read" -eq 11 ]
        [ "$delivered" -eq 5 ]
        [ "$failed" -eq 6 ]
        [ "$(head -n 1 "$T/dead" | jq -r '"\(.line) \(.message)"')" = "6 out of memory" ]
        diff <(jq -r .raw "$T/dead") <(sed -n '6,$p' "$T/in")
}

@test "routing: unknown placeholders and %{field:...} in a header are start-up errors, exit 1" {
        run "$KTP" --stdout -t 'nf.%{peer}' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"topic: unknown placeholder %{peer}"* ]]
        run "$KTP" --stdout -o 'key=%{field:a}.%{nope}' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"key: unknown placeholder %{nope}"* ]]
        run "$KTP" --stdout -o 'header.x=%{field:tag}' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"header.x: %{field:...} in a header"* ]]
        run "$KTP" --stdout -o 'header.x=%{datacenter}' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"header.x: %{datacenter} without a datacenter"* ]]
        run "$KTP" --stdout -t 'a/%{field:tag}' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"topic: '/' cannot be in a Kafka topic name"* ]]
        run "$KTP" --stdout -o topic.max=0 </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"topic.max: '0' is not a number from 1 to 4096"* ]]
}

@test "routing on --stdout: an absent field, a bad name, topic.max: dead-lettered as route, exit 3" {
        printf '%s\n' '{"tag": 1, "peer_ip_src": "10.0.0.1"}' '{"tag": 2}' \
                '{"tag": 3, "peer_ip_src": null}' \
                '{"tag": 4, "peer_ip_src": "2001:db8::1"}' \
                '{"tag": 5, "peer_ip_src": "10.0.0.2"}' \
                '{"tag": 6, "peer_ip_src": "10.0.0.3"}' \
                '{"tag": 7, "peer_ip_src": "10.0.0.1"}' > "$T/in"
        "$KTP" --stdout -t 'nf.%{field:peer_ip_src}' -o topic.max=2 \
                --dead-letter "$T/dead" --metrics-file "$T/m.prom" \
                < "$T/in" > "$T/out" 2> "$T/err" || :
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$invalid" -eq 4 ]
        [ "$delivered" -eq 3 ]
        [ "$(jq -r .tag "$T/out" | paste -sd,)" = 1,5,7 ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = route ]
        [ "$(jq -r .raw "$T/dead" | jq -r .tag | paste -sd,)" = 2,3,4,6 ]
        jq -r .message "$T/dead" > "$T/why"
        grep -qx 'topic field peer_ip_src is absent' "$T/why"
        grep -qx 'topic field peer_ip_src is null' "$T/why"
        grep -q '^topic "nf.2001:db8::1": not a Kafka topic name' "$T/why"
        grep -qx 'topic "nf.10.0.0.3" would be topic 3: more than topic.max' "$T/why"
        # The metrics' topic label is the template: there are several.
        grep -qxF 'kafkatee_pipe_read_total{stream="netflow",topic="nf.%{field:peer_ip_src}"} 7' "$T/m.prom"
}

@test "key = FIELD still names a field; headers are not printed on --stdout" {
        echo '{"tag": 1, "k": "%{x}"}' |
                "$KTP" --stdout -q -o key=k -o 'header.content-type=application/json' \
                -o 'header.schema=%{schema}' > "$T/out"
        [ "$(jq -c 'del(.meta, .dt, .sequence, .sequence_run)' "$T/out")" = \
                '{"$schema":"/netflow/flow/1.1.0","tag":1,"k":"%{x}"}' ]
        [ "$(wc -l < "$T/out")" -eq 1 ]
        if grep -q application/json "$T/out"; then false; fi
}

@test "validation: --stdout prints the valid events; the refused are invalid, dead-lettered with reason schema" {
        broken_records "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in"
        "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" \
                --dead-letter "$T/dead" < "$T/in" > "$T/out" 2> "$T/err" || :
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 2 ]
        [ "$invalid" -eq 4 ]
        [ "$(wc -l < "$T/out")" -eq 2 ]
        [ "$(jq -r .message "$T/dead")" = "$BROKEN_MESSAGES" ]
        [ "$(jq -r .reason "$T/dead" | sort -u)" = schema ]
        # without a dead-letter file, stderr says the same
        "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" < "$T/in" \
                > /dev/null 2> "$T/err" || :
        [ "$(grep -o 'schema: .*' "$T/err")" = "$(sed 's/^/schema: /' <<< "$BROKEN_MESSAGES")" ]
}

@test "validation: a relative schema.dir is taken from the config file's directory" {
        mkdir -p "$T/etc" "$T/elsewhere"
        cp -r "$ROOT/examples/schemas" "$T/etc/my-schemas"
        printf 'output = stdout\nschema.dir = my-schemas\n' > "$T/etc/p.conf"
        cd "$T/elsewhere"
        "$KTP" -c ../etc/p.conf < "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/out" 2> "$T/err"
        [ "$(wc -l < "$T/out")" -eq 60 ]
        # on the command line it is taken from the working directory
        run "$KTP" --stdout -o schema.dir=my-schemas < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"my-schemas/netflow/flow/1.1.0"* ]]
}

@test "validation: schema mistakes are start-up errors (exit 1) that say where" {
        mkdir -p "$T/s/netflow/flow"
        f=$T/s/netflow/flow/1.1.0.json
        run "$KTP" --stdout -o schema.dir="$T/s" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"$T/s/netflow/flow/1.1.0"* ]]
        echo '{"type": "object", "properties": {"bytes": {"maximun": 3}}}' > "$f"
        run "$KTP" --stdout -o schema.dir="$T/s" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *'#/properties/bytes/maximun: unknown keyword "maximun"'* ]]
        echo '{"type": "object", "properties": {"ip": {"format": "email"}}}' > "$f"
        run "$KTP" --stdout -o schema.dir="$T/s" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *email* ]]
        echo '{"type": "object",' > "$f"
        run "$KTP" --stdout -o schema.dir="$T/s" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"1.1.0.json"* ]]
        echo '{"properties": {"a": {"pattern": "(("}}}' > "$f"
        run "$KTP" --stdout -o schema.dir="$T/s" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *pattern* ]]
        echo '{"$ref": "/fragment/none/1.0.0"}' > "$f"
        run "$KTP" --stdout -o schema.dir="$T/s" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"fragment/none/1.0.0"* ]]
}

@test "validation: error.topic needs schema.dir, and takes no record fields" {
        run "$KTP" --stdout -o error.topic=errors < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"error.topic"*"schema.dir"* ]]
        run "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" \
                -o 'error.topic=e.%{field:ip_src}' < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"error.topic"*"field"* ]]
        run "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" \
                -o 'error.topic=bad topic' < /dev/null
        [ "$status" -eq 1 ]
        run "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" \
                -o 'error.topic=%{stream}.error' < /dev/null
        [ "$status" -eq 0 ]
}

@test "validation: the metrics and stats files count refused events" {
        broken_records "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in"
        "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" \
                -o stats.file="$T/stats.json" -o metrics.file="$T/m.prom" \
                < "$T/in" > /dev/null 2>&1 || :
        [ "$(jq .schema_invalid "$T/stats.json")" -eq 4 ]
        grep -q '^kafkatee_pipe_schema_invalid_total{.*} 4$' "$T/m.prom"
}

@test "sequence: 1..N in order, one run's name a run, another for the next run" {
        gen 5 > "$T/in"
        "$KTP" --stdout -q < "$T/in" > "$T/a"
        "$KTP" --stdout -q < "$T/in" > "$T/b"
        [ "$(jq -r .sequence "$T/a" | tr '\n' ' ')" = "1 2 3 4 5 " ]
        [ "$(jq -r .sequence "$T/b" | tr '\n' ' ')" = "1 2 3 4 5 " ]
        # right after "dt", before the record's members
        [ "$(head -n 1 "$T/a" | jq -c 'keys_unsorted[2:5]')" = '["dt","sequence","sequence_run"]' ]
        [ "$(jq -r .sequence_run "$T/a" | sort -u | wc -l)" -eq 1 ]
        [ "$(jq -r .sequence_run "$T/b" | sort -u | wc -l)" -eq 1 ]
        a=$(head -n 1 "$T/a" | jq -r .sequence_run)
        b=$(head -n 1 "$T/b" | jq -r .sequence_run)
        [[ "$a" =~ ^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$ ]]
        [ "$a" != "$b" ]
        # the start, in UTC: the later run sorts after (or with) the first
        [[ ! "${b%-*}" < "${a%-*}" ]]
}

@test "sequence: an invalid line, a marker, a refused event take no number" {
        gen 4 > "$T/g"
        {
                sed -n 1p "$T/g"
                echo 'not json'
                echo '{"event_type": "purge_init", "seq": 1}'
                sed -n 2p "$T/g" | sed 's/"bytes"/"bytesytes"/'
                sed -n 3p "$T/g"
                sed -n 4p "$T/g" | sed 's/"port_dst": 443/"port_dst": 70000/'
                sed -n 4p "$T/g"
        } > "$T/in"
        "$KTP" --stdout -o schema.dir="$ROOT/examples/schemas" \
                --dead-letter "$T/dead" < "$T/in" > "$T/out" 2> "$T/err" || :
        counters "$T/err"
        [ "$delivered" -eq 3 ]
        [ "$invalid" -eq 3 ]
        [ "$(jq -c '[.tag, .sequence]' "$T/out" | tr '\n' ' ')" = "[1,1] [3,2] [4,3] " ]
        # the refused event had its number: the next took it again
        [ "$(jq -r .reason "$T/dead" | tr '\n' ' ')" = "invalid schema schema " ]
        # a record its route refuses takes none either
        printf '%s\n' '{"tag": 1, "peer": "a"}' '{"tag": 2}' \
                '{"tag": 3, "peer": "b"}' |
                "$KTP" --stdout -t 'nf.%{field:peer}' > "$T/out" 2> "$T/err" || :
        counters "$T/err"
        [ "$invalid" -eq 1 ]
        [ "$(jq -c '[.tag, .sequence]' "$T/out" | tr '\n' ' ')" = "[1,1] [3,2] " ]
}

@test "sequence = off, sequence.field and sequence.run.field" {
        gen 2 > "$T/in"
        "$KTP" --stdout -q -o sequence=off < "$T/in" > "$T/out"
        [ "$(jq -c '[has("sequence"), has("sequence_run")]' "$T/out" | sort -u)" = "[false,false]" ]
        [ "$(head -n 1 "$T/out" | jq -r 'keys_unsorted[3]')" = tag ]
        "$KTP" --stdout -q -o sequence.field=seq \
                -o sequence.run.field=producer_run < "$T/in" > "$T/out"
        [ "$(jq -c '[.seq, has("sequence"), has("sequence_run")]' "$T/out" | tr '\n' ' ')" = "[1,false,false] [2,false,false] " ]
        [ "$(jq -r .producer_run "$T/out" | sort -u | wc -l)" -eq 1 ]
        # the names are checked as field.rename's targets
        for bad in sequence.field=dt sequence.run.field=meta \
                sequence.field=sequence_run sequence.field=; do
                run "$KTP" --stdout -o "$bad" < /dev/null
                [ "$status" -eq 1 ]
                [[ "$output" == *sequence* || "$output" == *name* ]]
        done
        run "$KTP" --stdout -o field.rename.ip_src=sequence < /dev/null
        [ "$status" -eq 1 ]
        run "$KTP" --stdout -o sequence=off -o field.rename.ip_src=sequence < "$T/in"
        [ "$status" -eq 0 ]
        run "$KTP" --stdout -o sequence=maybe < /dev/null
        [ "$status" -eq 1 ]
        # a record's own field by that name is refused, unless dropped
        echo '{"tag": 1, "sequence": 7}' | "$KTP" --stdout -q \
                --dead-letter "$T/dead" > "$T/out" || [ $? -eq 3 ]
        [ ! -s "$T/out" ]
        [[ "$(jq -r .message "$T/dead")" == *'"sequence": a name of the envelope'* ]]
        echo '{"tag": 1, "sequence": 7}' |
                "$KTP" --stdout -q -o field.drop=sequence > "$T/out"
        [ "$(jq -c '[.sequence, .tag]' "$T/out")" = "[1,1]" ]
}

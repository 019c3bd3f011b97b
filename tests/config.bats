#!/usr/bin/env bats
# Configuration mistakes caught at start (issue 15): each error names the
# file and line where its key was set, or the option as written, and
# exits 1 before reading; the dry run (--stdout) checks the librdkafka
# properties as a real run does, without connecting.

load helpers

setup() {
        T=$BATS_TEST_TMPDIR
        export TZ=UTC
        REC='{"event_type": "purge", "ip_src": "10.0.0.1", "port_src": 1, "packets": 1}'
}

teardown() {
        mock_stop
}

# conf LINE...: the lines as $T/x.conf.
conf() {
        printf '%s\n' "$@" > "$T/x.conf"
}

# dry [ARGS...]: a dry run of $T/x.conf on no input; $output is stderr.
dry() {
        run "$KTP" -c "$T/x.conf" --stdout "$@" </dev/null
}

@test "a quoted value: refused with the unquoted one, file and line" {
        conf 'stream = netflow' 'dt.timezone = "UTC"'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: dt.timezone: values are written without quotes: UTC, not \"UTC\"" ]
}

@test "a quoted kafka.* value: refused without echoing it" {
        conf 'kafka.sasl.password = "s3cret"'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:1: kafka.sasl.password: values are written without quotes" ]
}

@test "a quoted time zone on the command line: the option, the key, a hint" {
        run "$KTP" --stdout -o 'dt.timezone="UTC"' </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: -o dt.timezone=\"UTC\": dt.timezone: unknown time zone '\"UTC\"' (values are written without quotes: UTC)" ]
}

@test "an empty field name: the key and its line" {
        conf '# a comment' 'stream = netflow' 'key = '
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:3: key: empty field name" ]
        conf 'field.keep = ip_src, , packets' 'field.drop = '
        dry
        [ "$status" -eq 0 ]
}

@test "field rules the transform refuses: their key and line" {
        conf 'stream = netflow' 'field.rename.a = dt'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: field.rename.a: cannot rename a to dt: a name of the envelope" ]
        conf 'sequence.field = n' 'sequence.run.field = meta'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: sequence.run.field: sequence: meta: a name of the envelope" ]
        run "$KTP" --stdout -o sequence.field=dt </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: -o sequence.field=dt: sequence.field: sequence: dt: a name of the envelope" ]
}

@test "command-line errors name the option as written" {
        run "$KTP" --stdout -X foo=bar </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = 'kafkatee-pipe: -X foo=bar: kafka.foo: No such configuration property: "foo"' ]
        run "$KTP" --stdout -X novalue </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = 'kafkatee-pipe: -X novalue: expected NAME=VALUE' ]
        run "$KTP" --stdout --set=sequence=maybe </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: --set=sequence=maybe: sequence: 'maybe' is not one of off|on" ]
        run "$KTP" --stdout -t 'x.%{bar}' </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = 'kafkatee-pipe: -t x.%{bar}: topic: unknown placeholder %{bar}' ]
        run "$KTP" --stdout --dead-letter "$T/no/d.jsonl" </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: --dead-letter $T/no/d.jsonl: dead-letter file $T/no/d.jsonl: No such file or directory" ]
}

@test "a later setting's place is the one named" {
        conf 'dt.timezone = Mars/Olympus_Mons'
        run "$KTP" -c "$T/x.conf" --stdout -o dt.timezone=Venus </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: -o dt.timezone=Venus: dt.timezone: unknown time zone 'Venus'" ]
        dry
        [ "$output" = "kafkatee-pipe: $T/x.conf:1: dt.timezone: unknown time zone 'Mars/Olympus_Mons'" ]
}

@test "unknown placeholders: topic, error.topic, key, header, with their line" {
        conf 'stream = netflow' 'topic = x.%{bar}'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: topic: unknown placeholder %{bar}" ]
        conf "schema.dir = $ROOT/examples/schemas" 'error.topic = %{stream}.%{err}'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: error.topic: unknown placeholder %{err}" ]
        conf 'key = %{field:ip_src}%{nope}'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:1: key: unknown placeholder %{nope}" ]
        conf 'header.site = eqiad' 'header.x = %{nope}'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: header.x: unknown placeholder %{nope}" ]
}

@test "a module's message that names the key after its own part: placed" {
        conf 'encoding = pnda-avro' '' 'avro.field.x = 1'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:3: avro.schema (built in): avro.field.x: the schema has no extension field x (after rawdata)" ]
}

@test "a '#' after a blank in a value is refused; one without a blank is kept" {
        conf 'topic = x # the topic'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:1: topic: '#' after a blank in the value: a comment takes a line of its own" ]
        conf 'header.a = b	#tab'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:1: header.a: '#' after a blank in the value: a comment takes a line of its own" ]
        conf 'kafka.sasl.password = a#b' 'field.const.note = "see #5"' \
                'field.const.tag = x#1'
        run "$KTP" -q -c "$T/x.conf" --stdout <<< "$REC"
        [ "$status" -eq 0 ]
        [ "$(jq -r '.note + " " + .tag' <<< "$output")" = 'see #5 x#1' ]
}

@test "field.const: broken JSON is refused, other text is a string" {
        conf 'stream = netflow' 'field.const.a = {bad'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: field.const.a: not JSON: unexpected 'b' at byte 1: a value that begins with { must be JSON (other text becomes a string)" ]
        run "$KTP" --stdout -o 'field.const.b=[1,' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == "kafkatee-pipe: -o field.const.b=[1,: field.const.b: not JSON: "*": a value that begins with [ must be JSON (other text becomes a string)" ]]
        run "$KTP" --stdout -o 'field.const.c="unterminated' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"field.const.c: not JSON: "*"begins with \" must be JSON"* ]]
        conf 'field.const.o = {"a": [1, 2]}' 'field.const.s = plain text' \
                'field.const.n = 1.5e3'
        run "$KTP" -q -c "$T/x.conf" --stdout <<< "$REC"
        [ "$status" -eq 0 ]
        [ "$(jq -c '[.o, .s, .n]' <<< "$output")" = '[{"a":[1,2]},"plain text",1500]' ]
}

@test "field.keep or field.drop naming a rename's new name: refused" {
        conf 'field.rename.ip_src = src' 'field.keep = src, packets'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: field.keep: 'src' is the new name of field.rename.ip_src; field.keep matches input names: write 'ip_src'" ]
        conf 'field.rename.ip_src = src' 'field.drop = src'
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: field.drop: 'src' is the new name of field.rename.ip_src; field.drop matches input names: write 'ip_src'" ]
        # by the input name, it is kept under the new one
        conf 'field.rename.ip_src = src' 'field.keep = ip_src, packets'
        run "$KTP" -q -c "$T/x.conf" --stdout <<< "$REC"
        [ "$status" -eq 0 ]
        [ "$(jq -c '[.src, .packets, .port_src]' <<< "$output")" = '["10.0.0.1",1,null]' ]
}

@test "dt.timezone = local with a TZ that names no zone: refused" {
        TZ=Europe/Pariss run "$KTP" --stdout </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: dt.timezone = local: TZ='Europe/Pariss' names no time zone (times would be read as UTC): set TZ to a zone, or dt.timezone" ]
        conf 'dt.timezone = local'
        TZ=Nowhere run "$KTP" -c "$T/x.conf" --stdout </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == "kafkatee-pipe: $T/x.conf:1: dt.timezone = local: TZ='Nowhere' names no time zone"* ]]
        # a zone, a POSIX rule, or empty (UTC): taken
        for tz in Europe/Paris CET-1CEST,M3.5.0,M10.5.0/3 ''; do
                TZ=$tz run "$KTP" -q --stdout </dev/null
                [ "$status" -eq 0 ]
        done
        # and a named zone does not look at TZ
        TZ=Nowhere run "$KTP" -q --stdout -o dt.timezone=UTC </dev/null
        [ "$status" -eq 0 ]
}

@test "stats and metrics files that cannot be written: exit 1 at start" {
        conf 'stream = netflow' "stats.file = $T/no/s.json"
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: $T/x.conf:2: stats.file: cannot write $T/no/s.json: No such file or directory" ]
        run "$KTP" --stdout --metrics-file "$T" </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: --metrics-file $T: metrics.file: cannot write $T: Is a directory" ]
        : > "$T/file"
        run "$KTP" --stdout --stats-file "$T/file/s.json" </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: --stats-file $T/file/s.json: stats.file: cannot write $T/file/s.json: Not a directory" ]
        run "$KTP" --stdout --stats-file "$T/ok.json" </dev/null
        [ "$status" -eq 0 ]
        [ ! -e "$T/ok.json.tmp" ]
}

@test "a stats directory without write permission: exit 1 at start" {
        if [ "$(id -u)" -eq 0 ]; then
                skip "root writes anywhere"
        fi
        mkdir "$T/ro"
        chmod 555 "$T/ro"
        run "$KTP" --stdout --stats-file "$T/ro/s.json" </dev/null
        chmod 755 "$T/ro"
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: --stats-file $T/ro/s.json: stats.file: cannot write $T/ro/s.json: Permission denied" ]
}

@test "a kafka.* property librdkafka refuses: its line, with or without --stdout" {
        conf 'stream = netflow' 'kafka.compresion.codec = zstd'
        msg="kafkatee-pipe: $T/x.conf:2: kafka.compresion.codec: No such configuration property: \"compresion.codec\""
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "$msg" ]
        run "$KTP" -c "$T/x.conf" -b 127.0.0.1:1 </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "$msg" ]
        conf 'kafka.compression.codec = zstd'
        dry -q
        [ "$status" -eq 0 ]
}

@test "a conflict librdkafka finds at creation: refused by the dry run too" {
        conf 'kafka.linger.ms = 5' 'kafka.max.in.flight = 10'
        msg="kafkatee-pipe: $T/x.conf:2: kafka: \`max.in.flight\` must be set <= 5 when \`enable.idempotence\` is true"
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "$msg" ]
        run "$KTP" -c "$T/x.conf" -b 127.0.0.1:1 </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "$msg" ]
}

@test "the dry run connects to nothing and prints no librdkafka log" {
        command -v strace > /dev/null || skip "no strace"
        # LeakSanitizer cannot work under ptrace: the leaks are checked
        # by the other tests of the sanitizer build
        export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
        run strace -f -qq -e trace=connect -o "$T/trace" "$KTP" -q --stdout \
                -b 127.0.0.1:1 -X test.mock.num.brokers=1 -X debug=all \
                -X linger.ms=5 <<< "$REC"
        [ "$status" -eq 0 ]
        [ "$(grep -c 'connect(' "$T/trace")" -eq 0 ]
        # the event alone: no log line (debug=all would print hundreds)
        [ "${#lines[@]}" -eq 1 ]
        [ "$(jq -r .ip_src <<< "$output")" = 10.0.0.1 ]
        # the trace sees a real run's connection
        run strace -f -qq -e trace=connect -o "$T/trace" "$KTP" \
                -b 127.0.0.1:1 -o flush.timeout.ms=100 <<< "$REC"
        grep -q 'connect(.*127.0.0.1' "$T/trace"
}

@test "acks = 1 turns idempotence off with a notice, and delivers" {
        mock_start -t t:1
        run "$KTP" -b "$BROKERS" -t t -X acks=1 <<< "$REC"
        [ "$status" -eq 0 ]
        [[ "$output" == *"kafkatee-pipe: -X acks=1: kafka.acks = 1: kafka.enable.idempotence turned off (it needs acks = all): a retry may write an event twice or out of order (the audit counts the duplicates); set kafka.enable.idempotence = false to say so"* ]]
        [[ "$output" == *"delivered=1 "* ]]
        [ "$(high_watermarks t)" -eq 1 ]
        conf 'kafka.request.required.acks = 0' 'kafka.enable.idempotence = false'
        run "$KTP" -c "$T/x.conf" -b "$BROKERS" -t t <<< "$REC"
        [ "$status" -eq 0 ]
        [[ "$output" != *"turned off"* ]]
        # the dry run says the same
        conf '' '' 'kafka.acks = 1'
        dry
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "kafkatee-pipe: $T/x.conf:3: kafka.acks = 1: kafka.enable.idempotence turned off (it needs acks = all): a retry may write an event twice or out of order (the audit counts the duplicates); set kafka.enable.idempotence = false to say so" ]
}

@test "acks = 1 and enable.idempotence = true both set: refused, naming both" {
        conf 'kafka.acks = 1' 'stream = netflow' 'kafka.enable.idempotence = true'
        msg="kafkatee-pipe: $T/x.conf:1: kafka.acks = 1 and kafka.enable.idempotence = true ($T/x.conf:3): idempotence needs acks = all; set one of them otherwise"
        dry
        [ "$status" -eq 1 ]
        [ "$output" = "$msg" ]
        run "$KTP" -c "$T/x.conf" -b 127.0.0.1:1 </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "$msg" ]
        run "$KTP" --stdout -X enable.idempotence=true -X acks=0 </dev/null
        [ "$status" -eq 1 ]
        [ "$output" = "kafkatee-pipe: -X acks=0: kafka.acks = 0 and kafka.enable.idempotence = true (-X enable.idempotence=true): idempotence needs acks = all; set one of them otherwise" ]
        run "$KTP" -q --stdout -X acks=all -X enable.idempotence=true </dev/null
        [ "$status" -eq 0 ]
}

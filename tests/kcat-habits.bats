#!/usr/bin/env bats
# kcat's habits: -z, -H, -X list, -X dump, --stdout-format, and a reader
# of --stdout that goes away (| head).

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

@test "-z zstd: the producer compresses with zstd, the messages arrive" {
        mock_start -t t:1
        gen 20 | "$KTP" -b "$BROKERS" -t t -z zstd -X debug=msg -v 2> "$T/err"
        # librdkafka's debug line of each produce request names the codec
        grep -q 'Produce MessageSet with .*, zstd)' "$T/err"
        [ "$(grep -c 'Produce MessageSet with .*, none)' "$T/err")" -eq 0 ]
        [ "$(consume t | wc -l)" -eq 20 ]
        gen 1 | "$KTP" -b "$BROKERS" -t t --compression lz4 -X debug=msg -v 2> "$T/err"
        grep -q 'Produce MessageSet with .*, lz4)' "$T/err"
}

@test "-z with a codec librdkafka does not know: exit 1 naming -z" {
        run "$KTP" --stdout -z brotli </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"-z brotli: "*"(none, gzip, snappy, lz4 or zstd)"* ]]
}

@test "-H name=value: Kafka headers, placeholders expanded, as header.NAME" {
        mock_start -t t:1
        gen 2 | "$KTP" -b "$BROKERS" -t t -H content-type=application/json \
                -H 'src=%{stream}' --header x=1 -q
        consume t > "$T/plain"
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t t -o beginning -e -q \
                -f '%h\n' > "$T/headers"
        [ "$(wc -l < "$T/headers")" -eq 2 ]
        [ "$(sort -u "$T/headers")" = "content-type=application/json,src=netflow,x=1" ]
}

@test "-H without '=': exit 1 naming -H, before reading stdin" {
        run bash -c "printf 'kept\n' | { '$KTP' --stdout -H content-type; echo rc=\$?; cat; }"
        [[ "$output" == *"-H content-type: expected NAME=VALUE"* ]]
        [[ "$output" == *"rc=1"* ]]
        [[ "$output" == *kept* ]]
}

@test "-X list prints librdkafka's properties and exits 0" {
        run "$KTP" -X list </dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == *"compression.codec "* ]]
        [[ "$output" == *"enable.idempotence "* ]]
}

@test "-X dump: the settings and librdkafka's, defaults included, secrets masked" {
        cat > "$T/k.conf" <<'EOF'
stream = flows
key = %{field:ip_src}
kafka.sasl.password = Hunter2-sasl
kafka.sasl.username = alice
EOF
        run "$KTP" -c "$T/k.conf" --stdout -b 127.0.0.1:1 -X dump \
                -X ssl.key.password=Hunter2-sslkey -z gzip \
                -H x-api-key=Hunter2-header -o field.const.site=eqiad </dev/null
        [ "$status" -eq 0 ]
        [[ "$output" != *Hunter2* ]]
        # the program's settings, as the file writes them
        [[ "$output" == *$'\nstream = flows\n'* ]]
        [[ "$output" == *$'\noutput = stdout\n'* ]]
        [[ "$output" == *$'\nkey = %{field:ip_src}\n'* ]]
        [[ "$output" == *$'\nbrokers = 127.0.0.1:1\n'* ]]
        [[ "$output" == *$'\nfield.const.site = eqiad\n'* ]]
        [[ "$output" == *$'\nkafka.sasl.password = [redacted]\n'* ]]
        [[ "$output" == *$'\nkafka.sasl.username = alice\n'* ]]
        [[ "$output" == *$'\nheader.x-api-key = [redacted]\n'* ]]
        # librdkafka's, with the program's defaults applied
        [[ "$output" == *$'\nsasl.password = [redacted]\n'* ]]
        [[ "$output" == *$'\nssl.key.password = [redacted]\n'* ]]
        [[ "$output" == *$'\nenable.idempotence = true\n'* ]]
        [[ "$output" == *$'\nrequest.required.acks = -1\n'* ]]
        [[ "$output" == *$'\nclient.id = kafkatee-pipe\n'* ]]
        [[ "$output" == *$'\ncompression.codec = gzip\n'* ]]
        [[ "$output" == *$'\nmetadata.broker.list = 127.0.0.1:1\n'* ]]
}

@test "-X dump: its first part is a config file that reads back the same" {
        printf 'stream = flows\nanonymize.salt.rotate = 36h\n' > "$T/k.conf"
        "$KTP" -c "$T/k.conf" -X dump -o sequence=off > "$T/dump"
        sed '/^# librdkafka/,$d' "$T/dump" > "$T/again.conf"
        grep -qx 'anonymize.salt.rotate = 36h' "$T/again.conf"
        "$KTP" -c "$T/again.conf" -X dump > "$T/dump2"
        cmp "$T/dump" "$T/dump2"
}

@test "-X dump: acks and idempotence as a run would settle them" {
        run "$KTP" -X acks=1 -X dump
        [ "$status" -eq 0 ]
        [[ "$output" == *"idempotence turned off"* ]]
        [[ "$output" == *$'\nenable.idempotence = false\n'* ]]
        [[ "$output" == *$'\nrequest.required.acks = 1\n'* ]]
        run "$KTP" -X acks=1 -X enable.idempotence=true -X dump
        [ "$status" -eq 1 ]
        [[ "$output" == *"idempotence needs acks = all"* ]]
        [[ "$output" != *"# kafkatee-pipe settings"* ]]
}

@test "-X dump with a bad property or key: exit 1, nothing on stdout" {
        run "$KTP" -X dump -X no.such.property=1
        [ "$status" -eq 1 ]
        [[ "$output" == *no.such.property* ]]
        [[ "$output" != *"# kafkatee-pipe settings"* ]]
}

@test "--stdout-format shows each event's topic, key and headers" {
        gen 3 | "$KTP" -t 'flows.%{field:ip_proto}' -o key=ip_src -H h=v \
                --stdout-format '%t\t%k\t%K\t%p\t%h\t%s\n' -q > "$T/out"
        [ "$(wc -l < "$T/out")" -eq 3 ]
        [ "$(cut -f 1-5 "$T/out" | head -1)" = "$(printf 'flows.tcp\t10.0.1.0\t8\t-1\th=v')" ]
        cut -f 6 "$T/out" | jq -e -s 'length == 3 and .[0].tag == 1 and .[2].ip_src == "10.0.3.0"'
}

@test "--stdout-format '%s\n' writes what --stdout writes" {
        gen 5 | "$KTP" --stdout -o timestamp=ingest > "$T/plain"
        gen 5 | "$KTP" --stdout-format '%s\n' -o timestamp=ingest > "$T/fmt"
        cmp <(jq -c -f "$ROOT/tests/mask.jq" "$T/plain") \
                <(jq -c -f "$ROOT/tests/mask.jq" "$T/fmt")
}

@test "--stdout-format with an unknown token: exit 1 naming the option" {
        run "$KTP" --stdout-format '%t %x' </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"--stdout-format %t %x: '%x' is not one of"* ]]
        printf 'stdout.format = %%s\\q\n' > "$T/f.conf"
        run "$KTP" -c "$T/f.conf" --stdout </dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"stdout.format: '\\q' is not one of"* ]]
}

# A reader that goes away (head): said once, reading stops, exit 3 (the
# events of the write that failed are not delivered, stdin is left).
@test "--stdout | head -1: one line on stderr, exit 3, the invariant kept" {
        gen 20000 > "$T/in"
        run bash -c "timeout 60 '$KTP' --stdout < '$T/in' 2> '$T/err' | head -1 > '$T/first'; echo \${PIPESTATUS[0]}"
        [ "$output" -eq 3 ]
        [ "$(grep -c 'stdout closed by its reader: stopping' "$T/err")" -eq 1 ]
        [ "$(grep -c 'Broken pipe' "$T/err")" -eq 0 ]
        # each record not written is not said again
        [ "$(grep -c 'stdin:[0-9]*: ' "$T/err")" -eq 0 ]
        jq -e '.tag == 1' "$T/first"
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$failed" -ge 1 ]
        # reading stopped: the rest of the input is left
        [ "$read" -lt 20000 ]
        grep -q 'left unread on stdin' "$T/err"
}

@test "--stdout | head -1 with a dead-letter file: what was not written is in it" {
        gen 20000 > "$T/in"
        run bash -c "timeout 60 '$KTP' --stdout --dead-letter '$T/dead.jsonl' < '$T/in' 2> '$T/err' | head -1 > /dev/null; echo \${PIPESTATUS[0]}"
        [ "$output" -eq 3 ]
        counters "$T/err"
        [ "$dead_lettered" -eq "$failed" ]
        [ "$(wc -l < "$T/dead.jsonl")" -eq "$failed" ]
        jq -e -s 'map(.reason) | unique == ["delivery"] or unique == ["delivery", "shutdown"]' "$T/dead.jsonl"
        # delivery: the events of the write that failed, at most one
        # more than were produced; the lines after it were not produced
        delivery=$(jq -s 'map(select(.reason == "delivery")) | length' "$T/dead.jsonl")
        [ "$delivery" -le $((produced + 1)) ]
}

#!/usr/bin/env bats
# Privacy at the edge (PRIVACY in kafkatee-pipe(1)): with
# examples/netflow-private.conf no input address reaches stdout, Kafka,
# the dead-letter file, error events, the stats or metrics files or
# stderr; hashes are stable within a salt generation and change with it;
# the salt's bytes are in no file written.

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
        SAMPLES=$ROOT/examples/samples
        PRIVATE=$ROOT/examples/netflow-private.conf
        # its GeoIP databases: the tests' own, built here
        perl "$ROOT/tests/mmdb/mkmmdb.pl" "$T"
        GEO=(-o enrich.geoip.country="$T/country.mmdb"
             -o enrich.geoip.asn="$T/asn.mmdb")
}

teardown() {
        proc_stop_all
        mock_stop
}

# private_input: the shared samples, a generated load (tags from 7: no
# address of it ends in .0, which truncation would keep), and invalid
# lines that hold addresses.
private_input() {
        cat "$SAMPLES/pmacctd-lo-json.jsonl" "$SAMPLES/nfacctd-ipfix-epoch.jsonl"
        gen 300 7
        printf '%s\n' \
                '{"event_type": "purge", "ip_src": "10.9.8.7" broken' \
                '{"event_type": "purge", "ip_src": "10.9.8.6/32", "bytes": 1}' \
                '{"event_type": "purge", "ip_src": "10.9.8.1", "tcp_flags": "10.9.8.5"}' \
                '{"ip_src": "10.9.8.4", "ip_src": "10.9.8.4"}' \
                '{"ip_src": "2001:db8::77", "ip_dst": [1]' \
                '{"event_type": "purge", "peer_ip_src": {"a": "10.9.8.3"}}' \
                'INFO ( default/core ): [10.9.8.2] connection reset'
        # longer than line.max (4096 below): cut short in the file
        printf '{"ip_src": "10.9.8.9", "pad": "%05000d"}\n' 0
}

# addresses FILE: every address of the input, one a line (IPv4 anywhere,
# and the values of the address fields).
addresses() {
        {
                grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$1"
                grep -oE '2001:db8::[0-9a-f]+' "$1"
                grep '^{' "$1" | jq -R -r 'fromjson? | (.ip_src, .ip_dst,
                        .peer_ip_src) | strings' 2>/dev/null
        } | sort -u
}

# no_address ADDRS FILE...: no file holds any address as a word.
no_address() {
        local addrs=$1 f

        shift
        [ "$(wc -l < "$addrs")" -ge 40 ]
        for f in "$@"; do
                [ -s "$f" ] || { echo "empty: $f"; return 1; }
                if grep -a -n -F -w -f "$addrs" "$f" | head -5 | grep .; then
                        echo "an input address in $f"
                        return 1
                fi
        done
}

@test "privacy: stdout, the dead-letter file, stats, metrics and stderr hold no input address" {
        private_input > "$T/in"
        addresses "$T/in" > "$T/addrs"
        "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o line.max=4096 \
                -o deadletter.file="$T/dl" -o stats.file="$T/stats" \
                -o metrics.file="$T/metrics" -vv < "$T/in" > "$T/out" \
                2> "$T/err" || true
        counters "$T/err"
        [ "$exit" -eq 3 ]
        [ "$delivered" -eq 480 ] # 180 samples + 300
        [ "$invalid" -eq 7 ]
        [ "$(wc -l < "$T/out")" -eq 480 ]
        no_address "$T/addrs" "$T/out" "$T/dl" "$T/stats" "$T/metrics" \
                "$T/err"
        # what replaced them: truncated, hashed, the generation
        [ "$(jq -r .ip_src "$T/out" | sort -u | grep -c '^10\.0\.[0-6]\.0$')" -eq 7 ]
        [ "$(jq -r .anon_salt "$T/out" | sort -u | grep -cE '^[0-9a-f]{8}-1$')" -eq 1 ]
        [ "$(jq -r 'select(.peer_ip_src) | .peer_ip_src' "$T/out" | sort -u |
             grep -cE '^[0-9a-f]{16}$')" -eq 1 ]
        # every line withheld, the messages name fields only
        [ "$(jq -r .raw_withheld "$T/dl" | sort -u)" = anonymize.raw ]
        grep -q 'anonymize.ip_src: not an IP address (truncate)' "$T/dl"
        grep -q 'anonymize.peer_ip_src: not a string' "$T/dl"
        grep -q 'field tcp_flags: not an integer' "$T/dl"
        [ "$(jq .salt_generation "$T/stats")" -eq 1 ]
        grep -q '^kafkatee_pipe_salt_generation{.*} 1$' "$T/metrics"
}

@test "privacy: anonymize.raw = anonymize keeps the lines that parse, anonymized" {
        private_input > "$T/in"
        # tcp_flags has no rule: its value stays in the line kept
        addresses "$T/in" | grep -v -x -F 10.9.8.5 > "$T/addrs"
        "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o line.max=4096 \
                -o anonymize.raw=anonymize -o deadletter.file="$T/dl" \
                < "$T/in" > "$T/out" 2> "$T/err" || true
        counters "$T/err"
        [ "$invalid" -eq 7 ]
        no_address "$T/addrs" "$T/dl" "$T/err"
        # kept: a value that cannot be anonymized is null, the others are
        jq -r 'select(.raw != null) | .raw' "$T/dl" > "$T/kept"
        [ "$(wc -l < "$T/kept")" -eq 4 ]
        grep -qxF '{"event_type": "purge", "ip_src": null, "bytes": 1}' "$T/kept"
        grep -qxF '{"event_type": "purge", "ip_src": "10.9.8.0", "tcp_flags": "10.9.8.5"}' "$T/kept"
        grep -qxF '{"event_type": "purge", "peer_ip_src": null}' "$T/kept"
        # not JSON, or cut short: withheld
        [ "$(jq -r 'select(.raw == null) | .raw_withheld' "$T/dl" | wc -l)" -eq 3 ]
}

@test "privacy: the Kafka topic and the error events hold no input address" {
        mock_start -t eqiad.netflow:2 -t eqiad.netflow-error:1
        private_input > "$T/in"
        addresses "$T/in" > "$T/addrs"
        "$KTP" -c "$PRIVATE" "${GEO[@]}" -b "$BROKERS" -o line.max=4096 \
                -o deadletter.file="$T/dl" < "$T/in" 2> "$T/err" || true
        counters "$T/err"
        [ "$delivered" -eq 480 ]
        consume eqiad.netflow > "$T/topic"
        [ "$(wc -l < "$T/topic")" -eq 480 ]
        # validated by the config's 1.2.0, which takes them all (480);
        # 1.1.0 wants addresses and no anon_salt, so under it the hashed
        # events are refused and become error events
        "$KTP" -c "$PRIVATE" "${GEO[@]}" -b "$BROKERS" -o line.max=4096 \
                -o schema=/netflow/flow/1.1.0 \
                -o error.topic=eqiad.netflow-error \
                -o deadletter.file="$T/dl2" < "$T/in" 2> "$T/err2" || true
        counters "$T/err2"
        consume eqiad.netflow-error > "$T/errors"
        [ "$(wc -l < "$T/errors")" -ge 100 ]
        no_address "$T/addrs" "$T/topic" "$T/errors" "$T/dl" "$T/dl2" \
                "$T/err" "$T/err2"
}

# lines_at_least FILE N
lines_at_least() {
        [ "$(wc -l < "$1")" -ge "$2" ]
}

# hashes_of FILE: the distinct peer_ip_src hashes and salt ids.
hashes_of() {
        jq -r '[.peer_ip_src, .ip_src, .anon_salt] | @tsv' "$1" | sort -u
}

@test "privacy: hashes are stable within a generation and change on SIGHUP" {
        local line

        line=$(grep -m1 '"event_type": "purge"' "$SAMPLES/nfacctd-ipfix-epoch.jsonl")
        proc_start ktp "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -vv \
                -o anonymize.ip_src=hash
        proc_send ktp "$line" "$line" "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 3
        proc_signal ktp HUP
        # the rotation is done before the next lines are sent
        wait_for_line "$(proc_file ktp err)" 'SIGHUP: salt generation'
        proc_send ktp "$line" "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 5
        proc_finish ktp
        head -n 3 "$(proc_file ktp out)" > "$T/before"
        tail -n 2 "$(proc_file ktp out)" > "$T/after"
        [ "$(hashes_of "$T/before" | wc -l)" -eq 1 ]
        [ "$(hashes_of "$T/after" | wc -l)" -eq 1 ]
        [ "$(hashes_of "$T/before")" != "$(hashes_of "$T/after")" ]
        [ "$(hashes_of "$T/before" | cut -f1)" != "$(hashes_of "$T/after" | cut -f1)" ]
        hashes_of "$T/before" | cut -f3 | grep -qE '^[0-9a-f]{8}-1$'
        hashes_of "$T/after" | cut -f3 | grep -qE '^[0-9a-f]{8}-2$'
}

@test "privacy: anonymize.salt.rotate makes a new generation on its own" {
        local line

        line=$(grep -m1 '"event_type": "purge"' "$SAMPLES/nfacctd-ipfix-epoch.jsonl")
        proc_start ktp "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -vv \
                -o anonymize.salt.rotate=1s
        proc_send ktp "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 1
        wait_for_line "$(proc_file ktp err)" \
                'anonymize.salt.rotate: salt generation [0-9a-f]{8}-2' 20
        proc_send ktp "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 2
        proc_finish ktp
        [ "$(jq -r .anon_salt "$(proc_file ktp out)" | sed 's/.*-//' |
             tr '\n' ' ')" != "1 1 " ]
}

@test "privacy: one salt file, one hash in every run; another file, another hash" {
        local line

        line=$(grep -m1 '"event_type": "purge"' "$SAMPLES/nfacctd-ipfix-epoch.jsonl")
        printf 'a salt shared by the edge hosts\n' > "$T/salt1"
        printf 'another salt, for another site\n' > "$T/salt2"
        for s in salt1 salt1 salt2; do
                printf '%s\n' "$line" | "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -q \
                        -o anonymize.salt.file="$T/$s" | jq -r .peer_ip_src
        done > "$T/hashes"
        [ "$(sed -n 1p "$T/hashes")" = "$(sed -n 2p "$T/hashes")" ]
        [ "$(sed -n 1p "$T/hashes")" != "$(sed -n 3p "$T/hashes")" ]
        grep -qE '^[0-9a-f]{16}$' "$T/hashes"
}

# has_bytes NEEDLE_FILE FILE...: prints the files that hold the needle's
# bytes, raw, as hex (either case) or base64.
has_bytes() {
        python3 - "$@" <<'PY'
import base64, sys
needle = open(sys.argv[1], 'rb').read()
forms = [needle, needle.hex().encode(), needle.hex().upper().encode(),
         base64.b64encode(needle)[:40]]
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    if any(f in data for f in forms):
        print(path)
PY
}

@test "privacy: the salt file's bytes are in no file written, the spool's too" {
        mock_start -t eqiad.netflow:1
        head -c 32 /dev/urandom > "$T/salt"
        private_input > "$T/in"
        "$KTP" -c "$PRIVATE" "${GEO[@]}" -b "$BROKERS" -o line.max=4096 \
                -o anonymize.salt.file="$T/salt" -o spool.dir="$T/spool" \
                -o spool.mode=always -o deadletter.file="$T/dl" \
                -o stats.file="$T/stats" -o metrics.file="$T/metrics" -vv \
                < "$T/in" > "$T/out" 2> "$T/err" || true
        counters "$T/err"
        [ "$delivered" -eq 480 ]
        consume eqiad.netflow > "$T/topic"
        find "$T/spool" -type f > "$T/spoolfiles"
        [ -s "$T/spoolfiles" ]
        # the check finds the salt where it is (the file itself)
        [ "$(has_bytes "$T/salt" "$T/salt")" = "$T/salt" ]
        run has_bytes "$T/salt" "$T/topic" "$T/out" "$T/err" "$T/dl" \
                "$T/stats" "$T/metrics" $(cat "$T/spoolfiles")
        [ "$status" -eq 0 ]
        [ -z "$output" ]
}

# core_of NAME FILE: a core of the running process NAME into FILE
# (gcore, as root or with ptrace allowed), or skips the test.
core_of() {
        local pidvar="${1}_PID"

        [[ "$BUILD" == *asan* ]] &&
                skip "a core of an ASan build holds its shadow memory: terabytes"
        command -v gcore > /dev/null || skip "no gcore (Debian gdb)"
        gcore -o "$2" "${!pidvar}" > "$2.log" 2>&1 ||
                skip "gcore cannot attach: $(tail -n 1 "$2.log")"
        mv "$2.${!pidvar}" "$2"
}

@test "privacy: a core of the running process holds no salt, nor after a rotation" {
        local line

        head -c 32 /dev/urandom > "$T/salt"
        line=$(grep -m1 '"event_type": "purge"' "$SAMPLES/nfacctd-ipfix-epoch.jsonl")
        proc_start ktp "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -vv \
                -o anonymize.salt.file="$T/salt"
        proc_send ktp "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 1
        core_of ktp "$T/core1"
        proc_signal ktp HUP
        wait_for_line "$(proc_file ktp err)" 'SIGHUP: salt generation'
        proc_send ktp "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 2
        core_of ktp "$T/core2"
        proc_finish ktp
        # the cores are the process's memory: they hold the salt's ids
        jq -r .anon_salt "$(proc_file ktp out)" > "$T/ids"
        grep -qaF "$(sed -n 1p "$T/ids")" "$T/core1"
        grep -qaF "$(sed -n 2p "$T/ids")" "$T/core2"
        run has_bytes "$T/salt" "$T/core1" "$T/core2"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
}

@test "privacy: the kernel's core dump of a crash holds no salt" {
        local line

        [[ "$BUILD" == *asan* ]] && skip "ASan handles SIGSEGV itself"
        [ "$(cat /proc/sys/kernel/core_pattern)" = core ] ||
                skip "core_pattern is not a plain file: $(cat /proc/sys/kernel/core_pattern)"
        head -c 32 /dev/urandom > "$T/salt"
        line=$(grep -m1 '"event_type": "purge"' "$SAMPLES/nfacctd-ipfix-epoch.jsonl")
        mkdir "$T/cwd"
        cd "$T/cwd"
        ulimit -c unlimited
        proc_start ktp "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout \
                -o anonymize.salt.file="$T/salt"
        proc_send ktp "$line"
        wait_for lines_at_least "$(proc_file ktp out)" 1
        proc_signal ktp SEGV
        proc_wait ktp
        [ "$PROC_STATUS" -eq 139 ] # 128 + SIGSEGV: killed, core dumped
        # the core is the process's memory: it holds the salt's id
        grep -qaF "$(jq -r .anon_salt "$(proc_file ktp out)")" "$T/cwd/core"
        run has_bytes "$T/salt" "$T/cwd/core"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
}

@test "privacy: a template or key that reads an anonymized field is refused at start" {
        run "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o 'topic=flows.%{field:ip_src}' < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"topic: %{field:ip_src} reads an anonymized field"* ]]
        # %{field:NAME} reads the input name: one renamed to ip_src too
        run "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o field.rename.src=ip_src \
                -o 'key=%{field:port_src}-%{field:src}' < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"key: %{field:src} reads an anonymized field"* ]]
        run "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o key=peer_ip_src < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"key: peer_ip_src is an anonymized field"* ]]
        # a rule by an input name that is renamed away would leak
        run "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o field.rename.ip_src=src_addr \
                < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"anonymize.ip_src: ip_src is renamed to src_addr"* ]]
        # one renamed to an anonymized name is anonymized
        run "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o field.rename.src_addr=ip_src \
                <<< '{"src_addr": "10.9.8.7", "ip_dst": "10.1.1.1", "port_src": 1, "port_dst": 2, "ip_proto": "tcp", "packets": 1, "bytes": 1}'
        [ "$status" -eq 0 ]
        [[ "$output" == *'"ip_src": "10.9.8.0"'* ]]
        run "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o key=port_src < /dev/null
        [ "$status" -eq 0 ]
}

@test "privacy: --replay of a withheld line says it cannot be replayed" {
        printf '%s\n' '{"ip_src": "10.9.8.7" broken' |
                "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout -o deadletter.file="$T/dl" \
                > /dev/null 2>&1 || true
        [ "$(jq -r .raw_withheld "$T/dl")" = anonymize.raw ]
        "$KTP" -c "$PRIVATE" "${GEO[@]}" --stdout --replay "$T/dl" \
                -o deadletter.file="$T/dl2" > "$T/out" 2> "$T/err" || true
        counters "$T/err"
        [ "$invalid" -eq 1 ]
        grep -q 'withheld in the dead-letter file (anonymize.raw): cannot be replayed' "$T/dl2"
        ! grep -q 10.9.8.7 "$T/dl2"
}

#!/usr/bin/env bats
# The shipped schemas (examples/schemas) checked by an independent oracle,
# tests/schema_oracle.py on Debian's python3-jsonschema: the schemas are
# draft-07, every event made from the samples is valid, records broken on
# purpose are not (with the pointer python gives), and an error event in
# the shape the pipe will produce is valid against the error schema.

setup() {
        ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
        KTP=${BUILD:-$ROOT/build}/kafkatee-pipe
        SAMPLES=$ROOT/examples/samples
        SCHEMAS=$ROOT/examples/schemas
        T=$BATS_TEST_TMPDIR
        export TZ=UTC
        # Debian's python3-* modules live under /usr/bin/python3, which
        # need not be the python3 on the PATH.
        PY=/usr/bin/python3
        "$PY" -c 'import jsonschema, pyrfc3339' 2> /dev/null ||
                skip "python3-jsonschema or python3-rfc3339 missing: make deps"
}

# oracle URI EVENTS: the invalid events, one "LINE POINTER KEYWORD MESSAGE"
# line each, in $output; $status 0 when all are valid.
oracle() {
        run "$PY" "$ROOT/tests/schema_oracle.py" "$SCHEMAS" "$@"
}

# events IN OUT [CONF]: IN through CONF (examples/netflow.conf), the
# events in OUT.
events() {
        "$KTP" -c "${3:-$ROOT/examples/netflow.conf}" --stdout \
                -o dt.timezone=UTC < "$1" > "$2" 2> "$T/err"
}

# unchecked IN OUT: the same without the pipe's own validation, so that
# python judges every event, broken or not.
unchecked() {
        grep -Ev '^[[:space:]]*(schema\.dir|error\.topic)[[:space:]]*=' \
                "$ROOT/examples/netflow.conf" > "$T/unchecked.conf"
        events "$1" "$2" "$T/unchecked.conf"
}

# broken SUBST: the first record of the pmacctd sample with the text
# substitution SUBST applied (a sed s command), through the pipe.
broken() {
        local first

        first=$(grep -m1 '"event_type": "purge"' "$SAMPLES/pmacctd-lo-json.jsonl")
        sed "$1" <<< "$first" > "$T/in"
        [ "$(cat "$T/in")" != "$first" ] # the edit took
        unchecked "$T/in" "$T/ev"
        [ "$(wc -l < "$T/ev")" -eq 1 ]
        oracle /netflow/flow/1.1.0 "$T/ev"
        [ "$status" -eq 1 ]
        refused_too "$(cut -f2 <<< "$output")"
}

# refused_too POINTER: the pipe's own validator (schema.dir on) refuses
# $T/in too, at POINTER or inside it (it names the member itself where
# python names the object: additionalProperties, required).
refused_too() {
        local c_ptr

        rm -f "$T/dead"
        "$KTP" -c "$ROOT/examples/netflow.conf" --stdout -o dt.timezone=UTC \
                -o deadletter.file="$T/dead" < "$T/in" > "$T/ev2" 2> /dev/null ||
                [ $? -eq 3 ]
        [ ! -s "$T/ev2" ]
        [ "$(jq -r .reason "$T/dead")" = schema ]
        c_ptr=$(jq -r .message "$T/dead" | cut -d: -f1)
        [[ "$c_ptr" == "$1"* ]]
}

@test "schema: the shipped schemas are draft-07, \$id their path, examples valid" {
        run "$PY" "$ROOT/tests/schema_oracle.py" --check "$SCHEMAS"
        [ "$status" -eq 0 ]
        [ "$output" = "5 schemas valid" ]
}

@test "schema: a schema that is not draft-07 or uses an unchecked format is refused" {
        mkdir -p "$T/s/x"
        echo '{"$id": "/x/1.0.0", "type": "integr"}' > "$T/s/x/1.0.0.json"
        run "$PY" "$ROOT/tests/schema_oracle.py" "$T/s" /x/1.0.0 /dev/null
        [ "$status" -eq 2 ]
        [[ "$output" == *"not a draft-07 schema"* ]]
        echo '{"$id": "/x/1.0.0", "format": "hostname"}' > "$T/s/x/1.0.0.json"
        run "$PY" "$ROOT/tests/schema_oracle.py" "$T/s" /x/1.0.0 /dev/null
        [ "$status" -eq 2 ]
        [[ "$output" == *"format not checked here: /format (hostname)"* ]]
}

@test "schema: the stream and error schemas materialize fragment/common" {
        "$PY" - "$SCHEMAS" <<'EOF'
import json, sys
d = sys.argv[1]
def load(p):
    with open(d + p) as f:
        return json.load(f)
def bare(s):
    # the error schema words dt and meta for an error: compare the rest
    if isinstance(s, dict):
        return {k: bare(v) for k, v in s.items() if k != "description"}
    return s
common = load("/fragment/common/1.0.0.json")
for p in ("/netflow/flow/1.0.0.json", "/netflow/flow/1.1.0.json",
          "/netflow/flow/1.2.0.json", "/error/1.0.0.json"):
    s = load(p)
    assert s["additionalProperties"] is False, p
    assert set(common["required"]) <= set(s["required"]), p
    for k, v in common["properties"].items():
        assert bare(s["properties"][k]) == bare(v), (p, k)
EOF
}

@test "schema: examples/netflow-private.conf's events (enriched, hashed, truncated) are valid /netflow/flow/1.2.0, not 1.1.0" {
        perl "$ROOT/tests/mmdb/mkmmdb.pl" "$T"
        cat "$SAMPLES/pmacctd-lo-json.jsonl" "$SAMPLES/nfacctd-ipfix-epoch.jsonl" |
                "$KTP" -c "$ROOT/examples/netflow-private.conf" --stdout \
                -o enrich.geoip.country="$T/country.mmdb" \
                -o enrich.geoip.asn="$T/asn.mmdb" > "$T/priv" 2> "$T/err"
        [ "$(wc -l < "$T/priv")" -eq 180 ]
        # what makes them 1.2.0's: a hash (the nfacctd sample has the
        # exporter), a label, the salt's generation
        [ "$(jq -r .peer_ip_src "$T/priv" | grep -cE '^[0-9a-f]{16}$')" -eq 120 ]
        [ "$(jq -r .net_cidr_src "$T/priv" | grep -c loopback)" -gt 0 ]
        [ "$(jq -r .anon_salt "$T/priv" | sort -u | wc -l)" -eq 1 ]
        oracle /netflow/flow/1.2.0 "$T/priv"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        sed 's|"/netflow/flow/1.2.0"|"/netflow/flow/1.1.0"|' "$T/priv" > "$T/as11"
        oracle /netflow/flow/1.1.0 "$T/as11"
        [ "$status" -eq 1 ]
}

@test "schema: every event made from both samples is valid /netflow/flow/1.1.0" {
        events "$SAMPLES/pmacctd-lo-json.jsonl" "$T/pm"
        [ "$(wc -l < "$T/pm")" -eq 60 ]
        events "$SAMPLES/nfacctd-ipfix-epoch.jsonl" "$T/nf"
        [ "$(wc -l < "$T/nf")" -eq 120 ]
        oracle /netflow/flow/1.1.0 "$T/pm"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        oracle /netflow/flow/1.1.0 "$T/nf"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
}

@test "schema: a record of every primitive, and the encode_as_array forms, are valid" {
        # tests/all-primitives.jsonl: one record with each primitive that
        # pmacct's print plugin writes in JSON (src/plugin_cmn_json.c of
        # 1.7.7 and of its master), one with the array and map forms.
        unchecked "$ROOT/tests/all-primitives.jsonl" "$T/all"
        [ "$(wc -l < "$T/all")" -eq 2 ]
        # the pipe's own validator lets them all through as well
        events "$ROOT/tests/all-primitives.jsonl" "$T/all-checked"
        diff <(jq -c 'del(.meta, .sequence_run)' "$T/all") \
                <(jq -c 'del(.meta, .sequence_run)' "$T/all-checked")
        oracle /netflow/flow/1.1.0 "$T/all"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        # The first covers every property of the schema, and no more.
        diff <(head -n 1 "$T/all" | jq -r 'keys[]') \
                <(jq -r '.properties | keys[]' "$SCHEMAS/netflow/flow/1.1.0.json")
}

@test "schema: 1.1.0's sequence and sequence_run: optional, a number from 1, a run's form" {
        head -n 3 "$SAMPLES/pmacctd-lo-json.jsonl" > "$T/in"
        events "$T/in" "$T/on"
        [ "$(jq -c .sequence "$T/on" | tr '\n' ' ')" = "1 2 " ]
        # sequence = off: neither member, and still valid
        "$KTP" -c "$ROOT/examples/netflow.conf" --stdout -o dt.timezone=UTC \
                -o sequence=off < "$T/in" > "$T/off"
        [ "$(jq -c '[has("sequence"), has("sequence_run")]' "$T/off" | sort -u)" = "[false,false]" ]
        [ "$(wc -l < "$T/off")" -eq 2 ]
        oracle /netflow/flow/1.1.0 "$T/off"
        [ "$status" -eq 0 ]
        head -n 1 "$T/on" > "$T/one"
        for bad in '.sequence = 0' '.sequence = "1"' '.sequence = 1.5' \
                '.sequence_run = "2026-11-30T16:44:23Z-3f9a1c2b"' \
                '.sequence_run = "20261130T164423Z-3F9A1C2B"' \
                '.sequence_run = 1'; do
                jq -c "$bad" "$T/one" > "$T/bad"
                oracle /netflow/flow/1.1.0 "$T/bad"
                [ "$status" -eq 1 ]
        done
        # the 1.0.0 schema, strict, has neither
        oracle /netflow/flow/1.0.0 "$T/one"
        [ "$status" -eq 1 ]
}

@test "schema: a \$ref to /fragment/common/1.0.0 resolves under the schema dir" {
        cp -R "$SCHEMAS" "$T/s"
        cp -R "$ROOT/tests/schemas/." "$T/s"
        SCHEMAS=$T/s
        events "$SAMPLES/nfacctd-ipfix-epoch.jsonl" "$T/nf"
        oracle /test/envelope/1.0.0 "$T/nf"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        # The fragment's checks apply through the $ref.
        head -n 1 "$T/nf" | jq -c '.meta.id = "x"' > "$T/bad"
        oracle /test/envelope/1.0.0 "$T/bad"
        [ "$status" -eq 1 ]
        [[ "$output" == "1	/meta/id	format	"* ]]
}

@test "schema: the oracle checks date-time and uuid (python does not by itself)" {
        unchecked "$SAMPLES/pmacctd-lo-json.jsonl" "$T/pm"
        head -n 1 "$T/pm" > "$T/one"
        {
                jq -c '.dt = "2026-11-23 08:33:20.731"' "$T/one"
                jq -c '.meta.dt = "2026-11-23T25:33:20.731Z"' "$T/one"
                jq -c '.timestamp_start = "2026-11-23T08:33:20"' "$T/one"
                jq -c '.meta.id = "9100ba28-f73a-4ecc-85d3-6e35ecede1e"' "$T/one"
                jq -c '.meta.id = "9100ba28f73a4ecc85d36e35ecede1e4"' "$T/one"
        } > "$T/bad"
        oracle /netflow/flow/1.1.0 "$T/bad"
        [ "$status" -eq 1 ]
        [ "$(cut -f 1-3 <<< "$output")" = "1	/dt	format
2	/meta/dt	format
3	/timestamp_start	format
4	/meta/id	format
5	/meta/id	format" ]
}

@test "schema: a glued key fails: additionalProperties at the event" {
        broken 's/"bytes"/"bytesytes"/'
        [[ "$output" == "1		additionalProperties	"*"'bytesytes' was unexpected"* ]]
}

@test "schema: a negative counter fails at /packets" {
        broken 's/"packets": 1,/"packets": -1,/'
        [[ "$output" == "1	/packets	minimum	"* ]]
}

@test "schema: a port over 65535 fails at /port_dst" {
        broken 's/"port_dst": 18080/"port_dst": 65536/'
        [[ "$output" == "1	/port_dst	maximum	"* ]]
}

@test "schema: a missing required field fails: required at the event" {
        broken 's/"ip_src": "127.0.0.1", //'
        [[ "$output" == "1		required	'ip_src' is a required property" ]]
}

@test "schema: an address that is not an IP fails at /ip_dst" {
        broken 's/"ip_dst": "127.0.0.1"/"ip_dst": "127.0.0.256"/'
        [[ "$output" == "1	/ip_dst	anyOf	"* ]]
        broken 's/"ip_dst": "127.0.0.1"/"ip_dst": "fe80::1::2"/'
        [[ "$output" == "1	/ip_dst	anyOf	"* ]]
}

@test "schema: a bad mac address fails at /mac_src" {
        broken 's/"tag": 7/"mac_src": "00:11:22:33:44:5G"/'
        [[ "$output" == "1	/mac_src	pattern	"* ]]
        broken 's/"tag": 7/"mac_src": "00:11:22:33:44"/'
        [[ "$output" == "1	/mac_src	pattern	"* ]]
}

@test "schema: u64 counters: 2^64-1 is valid, 2^64 is not" {
        grep -m1 '"event_type": "purge"' "$SAMPLES/pmacctd-lo-json.jsonl" |
                sed 's/"bytes": 60/"bytes": 18446744073709551615/' > "$T/in"
        unchecked "$T/in" "$T/ev"
        grep -q '"bytes": 18446744073709551615}' "$T/ev"
        oracle /netflow/flow/1.1.0 "$T/ev"
        [ "$status" -eq 0 ]
        broken 's/"bytes": 60/"bytes": 18446744073709551616/'
        [[ "$output" == "1	/bytes	maximum	"* ]]
}

@test "schema: tcp_flags is an integer 0..255 after field.integer" {
        broken 's/"tcp_flags": "2"/"tcp_flags": "256"/'
        [[ "$output" == "1	/tcp_flags	maximum	"* ]]
}

@test "schema: the example error event is a valid /error/1.0.0, and not without its message" {
        oracle /error/1.0.0 "$ROOT/tests/error-event.json"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        # Its raw_event is the failed event, and it fails as its message says.
        jq -r .raw_event "$ROOT/tests/error-event.json" > "$T/raw"
        oracle "$(jq -r .errored_schema_uri "$ROOT/tests/error-event.json")" \
                "$T/raw"
        [[ "$output" == "1		additionalProperties	"*"'bytesytes'"* ]]
        jq -c 'del(.message)' "$ROOT/tests/error-event.json" > "$T/bad"
        jq -c '.stack = "none"' "$ROOT/tests/error-event.json" >> "$T/bad"
        jq -c '.raw_event = {}' "$ROOT/tests/error-event.json" >> "$T/bad"
        oracle /error/1.0.0 "$T/bad"
        [ "$status" -eq 1 ]
        [ "$(cut -f 1-3 <<< "$output")" = "1		required
2		additionalProperties
3	/raw_event	type" ]
}

@test "schema: the oracle's formats pass the JSON-Schema-Test-Suite's cases" {
        suite=/usr/share/json-schema-test-suite/tests/draft7/optional/format
        [ -d "$suite" ] || skip "json-schema-test-suite missing: make deps"
        run "$PY" - "$ROOT/tests/schema_oracle.py" "$suite" <<'PY'
import importlib.util, json, sys
from jsonschema import Draft7Validator
spec = importlib.util.spec_from_file_location("oracle", sys.argv[1])
oracle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(oracle)
fc = oracle.format_checker()
for name in ("date-time", "date", "time", "ipv4", "ipv6"):
    run = passed = 0
    with open("%s/%s.json" % (sys.argv[2], name)) as f:
        groups = json.load(f)
    for group in groups:
        v = Draft7Validator(group["schema"], format_checker=fc)
        for test in group["tests"]:
            run += 1
            if v.is_valid(test["data"]) == test["valid"]:
                passed += 1
            else:
                print("FAIL %s: %s" % (name, test["description"]))
    print("%s: %d run, %d passed" % (name, run, passed))
PY
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" != *FAIL* ]]
        [[ "$output" == *"date-time: "[1-9]*" run"* ]]
}

#!/usr/bin/env bash
# tests/avro/selftest.sh - the two independent Avro decoders (avro.sh decode-java,
# on Apache Avro's Java library, and decode.py, on Debian's python3-avro) checked
# without kafkatee-pipe: datums written here with python3-avro's DatumWriter for
# test-entity.avsc and test-extended.avsc must decode to the expected lines, the
# same text from both; 4,000 doubles (every power of two, random ones) must
# print as Python's repr in both; a message with a byte left over, a truncated
# datum or frame, a negative union index, a wrong Confluent prefix and bytes or
# a string that are not UTF-8 must each fail (exit 1, naming message 2) after
# printing message 1. avro-tools fragtojson is tried when it was fetched.
#
# exit codes: 0 all passed; 1 a check failed; 77 skip (java/mvn cannot fetch
# Avro, or python3-avro missing).
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3-* modules live under /usr/bin/python3, which need not be
# the python3 on the PATH
PY=/usr/bin/python3
$PY -c 'import avro.io, avro.schema' 2>/dev/null ||
    { echo "selftest.sh: SKIP: python3-avro missing (/usr/bin/python3 cannot import avro)" >&2; exit 77; }
"$HERE/avro.sh" fetch || exit $?

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
BASE=$HERE/test-entity.avsc
EXT=$HERE/test-extended.avsc

# ---------------------------------------------------------------- inputs

# each NAME.frames is a stream of frames (4-byte big-endian length + message)
$PY - "$BASE" "$EXT" "$T" <<'PY'
import io, random, struct, sys
import avro.io, avro.schema

base = avro.schema.parse(open(sys.argv[1]).read())
ext = avro.schema.parse(open(sys.argv[2]).read())
out = sys.argv[3]

def datum(schema, rec):
    b = io.BytesIO()
    avro.io.DatumWriter(schema).write(rec, avro.io.BinaryEncoder(b))
    return b.getvalue()

def frames(name, msgs):
    with open(f"{out}/{name}.frames", "wb") as f:
        for m in msgs:
            f.write(struct.pack(">I", len(m)) + m)

B1 = {"timestamp": 1700000000123, "source": "pmacct", "rawdata": b'{"ip_src":"192.0.2.1","bytes":1500}'}
B2 = {"timestamp": 0, "source": 'q"b\\n\nt\tc\x01e', "rawdata": "é ü 日本 😀".encode()}
B3 = {"timestamp": -1, "source": "", "rawdata": b""}
frames("base", [datum(base, r) for r in (B1, B2, B3)])
frames("confluent", [b"\0\0\0\0\x2a" + datum(base, r) for r in (B1, B2)])
frames("confluent-big", [b"\0\xff\xff\xff\xfe" + datum(base, B1)])

E1 = dict(B1, host=None, tag="x", port=8080, octets=9007199254740993, ratio=0.1, sampled=True,
          note="naïve façade — ok".encode(), peer_asn=None, vlan=None, rtt=None, tagged=None, label=None)
E2 = dict(B2, host='h"q\\b\nl→', tag=None, port=-2147483648, octets=-9223372036854775808,
          ratio=1e16, sampled=False, note=b"", peer_asn=64512, vlan=2147483647, rtt=-0.0, tagged=True,
          label="é".encode())
E3 = dict(B3, host="", tag="", port=0, octets=9223372036854775807, ratio=5e-324, sampled=True,
          note=b"\x00\x1f", peer_asn=0, vlan=0, rtt=1e-05, tagged=False, label=b"")
E4 = dict(B1, host="h", tag="t", port=1, octets=1, ratio=float("nan"), sampled=False, note=b"n",
          peer_asn=-1, vlan=-1, rtt=float("-inf"), tagged=None, label=b"l")
frames("ext", [datum(ext, r) for r in (E1, E2, E3, E4)])

# doubles: edge values, then random bit patterns (finite ones), then random "nice" decimals
rnd = random.Random(14)
ds = [0.1, 0.2 + 0.1, 1/3, 100.0, 1e15, 1e16, 1.5e16, 123456789012345678.0, 1e-4, 1e-5, 0.0001234,
      2.0**-1074, 2.0**-1022, 1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 5e-324, -1.5, 9.999999999999999e22, 1e23]
# every power of two: at some (2**-1017 = 7.120236347223045e-307) the shortest
# digits are not the value rounded to that many digits but its neighbour, as
# the rounding interval below a power of two is half the one above
ds += [2.0**k for k in range(-1074, 1024)]
while len(ds) < 3000:
    x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
    if x == x and abs(x) != float("inf"):
        ds.append(x)
while len(ds) < 4000:
    ds.append(round(rnd.uniform(-1e6, 1e6), rnd.randrange(0, 10)))
frames("doubles", [datum(ext, dict(E3, ratio=x, rtt=-x)) for x in ds])
with open(f"{out}/doubles.expected", "w") as f:
    f.writelines(f"{x!r} {-x!r}\n" for x in ds)

# bad inputs: message 1 good, message 2 bad
good = datum(base, B1)
frames("leftover", [good, good + b"\0"])
frames("truncated", [good, good[:-1]])
frames("badutf8-bytes", [good, datum(base, dict(B1, rawdata=b"ok \xc3\x28"))])
enc = io.BytesIO(); e = avro.io.BinaryEncoder(enc)
e.write_long(1); e.write_bytes(b"\xed\xa0\x80"); e.write_bytes(b"")  # a UTF-16 surrogate as source
frames("badutf8-string", [good, enc.getvalue()])
# host's union index (0 = null, one zigzag byte) comes right after the base
# fields; 0x01 is index -1
k, e1 = len(datum(base, B1)), datum(ext, E1)
assert e1[k] == 0
frames("badunion", [e1, e1[:k] + b"\x01" + e1[k + 1:]])
with open(f"{out}/truncated-frame.frames", "wb") as f:
    f.write(struct.pack(">I", len(good)) + good + struct.pack(">I", 100) + good)
frames("confluent-wrong-id", [b"\0\0\0\0\x2a" + good, b"\0\0\0\0\x2b" + good])
frames("confluent-no-magic", [b"\0\0\0\0\x2a" + good, b"\x01\0\0\0\x2a" + good])
frames("confluent-short", [b"\0\0\0\0\x2a" + good, b"\0\0"])
# an int field holding 2**31 (5-byte varint): Avro's Java BinaryDecoder.readInt
# silently drops the bits above 32 (prints 0); decode.py must refuse it
with open(f"{out}/int.avsc", "w") as f:
    f.write('{"type":"record","name":"r","fields":[{"name":"i","type":"int"}]}')
frames("int-range", [b"\x02", b"\x80\x80\x80\x80\x10"])
with open(f"{out}/one.avro", "wb") as f:
    f.write(datum(ext, E1))
PY

# ---------------------------------------------------------------- checks

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
notok() { fail=$((fail + 1)); echo "not ok - $*"; }

java_dec() { "$HERE/avro.sh" decode-java "$@"; }
py_dec() { $PY "$HERE/decode.py" "$@"; }

# expect NAME EXPECTED-FILE DECODER-ARGS...: both decoders print exactly EXPECTED, exit 0
expect() {
    local name=$1 want=$2 d rc
    shift 2
    for d in java_dec py_dec; do
        rc=0
        $d "$@" <"$T/$name.frames" >"$T/$name.$d" 2>"$T/$name.$d.err" || rc=$?
        if [ $rc = 0 ] && cmp -s "$want" "$T/$name.$d"; then
            ok "$name: $d"
        else
            notok "$name: $d (exit $rc)"
            diff "$want" "$T/$name.$d" | sed 's/^/    /' | head -n 20
            sed 's/^/    stderr: /' "$T/$name.$d.err" | head -n 5
        fi
    done
}

# bad NAME STDERR-WORD DECODER-ARGS...: both exit 1 after printing message 1,
# naming message 2 (and STDERR-WORD) on stderr; AT=N: the bad one is message N
bad() {
    local name=$1 word=$2 at=${AT:-2} d rc
    shift 2
    for d in java_dec py_dec; do
        rc=0
        $d "$@" <"$T/$name.frames" >"$T/$name.$d" 2>"$T/$name.$d.err" || rc=$?
        if [ $rc = 1 ] && [ "$(wc -l <"$T/$name.$d")" = $((at - 1)) ] &&
                grep -q "message $at: .*$word" "$T/$name.$d.err"; then
            ok "$name fails: $d: $(head -n 1 "$T/$name.$d.err")"
        else
            notok "$name: $d: exit $rc (want 1), $(wc -l <"$T/$name.$d") lines (want $((at - 1))), stderr:"
            sed 's/^/    /' "$T/$name.$d.err" | head -n 5
        fi
    done
}

cat >"$T/base.want" <<'EOF'
{"timestamp":1700000000123,"source":"pmacct","rawdata":"{\"ip_src\":\"192.0.2.1\",\"bytes\":1500}"}
{"timestamp":0,"source":"q\"b\\n\nt\tc\u0001e","rawdata":"é ü 日本 😀"}
{"timestamp":-1,"source":"","rawdata":""}
EOF
expect base "$T/base.want" "$BASE"

head -n 2 "$T/base.want" >"$T/confluent.want"
expect confluent "$T/confluent.want" "$BASE" --confluent 42
head -n 1 "$T/base.want" >"$T/confluent-big.want"
expect confluent-big "$T/confluent-big.want" "$BASE" --confluent 4294967294

cat >"$T/ext.want" <<'EOF'
{"timestamp":1700000000123,"source":"pmacct","rawdata":"{\"ip_src\":\"192.0.2.1\",\"bytes\":1500}","host":null,"tag":"x","port":8080,"octets":9007199254740993,"ratio":0.1,"sampled":true,"note":"naïve façade — ok","peer_asn":null,"vlan":null,"rtt":null,"tagged":null,"label":null}
{"timestamp":0,"source":"q\"b\\n\nt\tc\u0001e","rawdata":"é ü 日本 😀","host":"h\"q\\b\nl→","tag":null,"port":-2147483648,"octets":-9223372036854775808,"ratio":1e+16,"sampled":false,"note":"","peer_asn":64512,"vlan":2147483647,"rtt":-0.0,"tagged":true,"label":"é"}
{"timestamp":-1,"source":"","rawdata":"","host":"","tag":"","port":0,"octets":9223372036854775807,"ratio":5e-324,"sampled":true,"note":"\u0000\u001f","peer_asn":0,"vlan":0,"rtt":1e-05,"tagged":false,"label":""}
{"timestamp":1700000000123,"source":"pmacct","rawdata":"{\"ip_src\":\"192.0.2.1\",\"bytes\":1500}","host":"h","tag":"t","port":1,"octets":1,"ratio":"NaN","sampled":false,"note":"n","peer_asn":-1,"vlan":-1,"rtt":"-Infinity","tagged":null,"label":"l"}
EOF
expect ext "$T/ext.want" "$EXT"

# doubles: both decoders print Python's repr of the value written
for d in java_dec py_dec; do
    rc=0
    $d "$EXT" <"$T/doubles.frames" >"$T/doubles.$d" 2>"$T/doubles.$d.err" || rc=$?
    sed 's/.*"ratio":\([^,]*\),.*"rtt":\([^,]*\),.*/\1 \2/' "$T/doubles.$d" >"$T/doubles.$d.got"
    if [ $rc = 0 ] && cmp -s "$T/doubles.expected" "$T/doubles.$d.got"; then
        ok "doubles: $d: $(wc -l <"$T/doubles.expected") values as Python's repr"
    else
        notok "doubles: $d (exit $rc)"
        diff "$T/doubles.expected" "$T/doubles.$d.got" | sed 's/^/    /' | head -n 10
    fi
done
if cmp -s "$T/doubles.java_dec" "$T/doubles.py_dec"; then
    ok "doubles: the two decoders print the same text"
else
    notok "doubles: the two decoders differ"
fi

bad leftover "left over" "$BASE"
bad truncated "" "$BASE"
bad truncated-frame "truncated frame" "$BASE"
bad badutf8-bytes "rawdata" "$BASE"
bad badutf8-string "" "$BASE"
bad badunion "[Uu]nion" "$EXT"
bad confluent-wrong-id "Confluent" "$BASE" --confluent 42
bad confluent-no-magic "Confluent" "$BASE" --confluent 42
bad confluent-short "Confluent" "$BASE" --confluent 42
# a Confluent-framed stream read as plain fragments: the 5 prefix bytes are
# taken as the datum's start, so something must not fit, in message 1
AT=1 bad confluent-wrong-id "" "$BASE"

rc=0
py_dec "$T/int.avsc" <"$T/int-range.frames" >"$T/int-range.out" 2>"$T/int-range.err" || rc=$?
if [ $rc = 1 ] && [ "$(cat "$T/int-range.out")" = '{"i":1}' ] &&
        grep -q 'message 2: field i: 2147483648 out of range for int' "$T/int-range.err"; then
    ok "int-range fails: py_dec: $(cat "$T/int-range.err")"
else
    notok "int-range: py_dec: exit $rc (want 1)"
fi

# PNDA's own check, when avro-tools could be fetched
rc=0
"$HERE/avro.sh" fragtojson "$EXT" "$T/one.avro" >"$T/frag.out" 2>"$T/frag.err" || rc=$?
if [ $rc = 77 ]; then
    echo "ok - fragtojson # SKIP $(cat "$T/frag.err")"
elif [ $rc = 0 ] && $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["timestamp"] == 1700000000123 and d["tag"] == {"string": "x"} and d["host"] is None, d
' "$T/frag.out"; then
    ok "fragtojson: avro-tools reads the extended fragment"
else
    notok "fragtojson (exit $rc)"
    sed 's/^/    /' "$T/frag.out" "$T/frag.err" | head -n 10
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]

#!/bin/sh
# run.sh [SECONDS]: builds the libFuzzer targets: the transform with the
# line reader, the validator's two paths, the address parser and CIDR
# list (netcidr), and the stages after the transform (enrich, anonymize,
# ev_apply).  Runs the transform's big generated seeds once, then fuzzes
# the transform for SECONDS (60 by default), the validator for half of
# that, from seeds made of the JSON-Schema-Test-Suite's draft-07 cases
# when it is installed, netcidr for a tenth and the stages for a fifth,
# from their seeds (mkcorpus.sh).  Prints TAP; exits non-zero on a build
# failure or any finding.  Everything else goes to logs under
# ${BUILD:-build}/fuzz/.
#
# rm -rf ${BUILD:-build}/fuzz starts from the seeds again.  One run at a
# time in a BUILD directory: concurrent runs share its logs.
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-60}
build=${BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
work=$build/fuzz
bin=$build/fuzz_transform
vbin=$build/fuzz_validate
nbin=$build/fuzz_netcidr
abin=$build/fuzz_anonymize
avbin=$build/fuzz_avroenc
log=$work/fuzz.log
vlog=$work/fuzz-validate.log
suite=${KT_SCHEMA_SUITE:-/usr/share/json-schema-test-suite}/tests/draft7

echo "1..5"
target=fuzz_transform
n=1

# fail WHY [FILE]: the TAP verdict, with the head of FILE's report.
fail() {
	echo "not ok $n - $target: $1"
	if [ -n "${2:-}" ]; then
		start=$(grep -n -E 'FUZZ PROPERTY|ERROR: |runtime error' \
		    "$2" | head -n 1 | cut -d: -f1)
		sed -n "${start:-1},\$p" "$2" | head -n 12 | sed 's/^/# /'
		echo "# full log: $2"
	fi
	exit 1
}

# missing: the Debian packages this needs that are not installed.
missing() {
	command -v clang >/dev/null 2>&1 || echo clang
	pkg-config --exists json-c 2>/dev/null || echo libjson-c-dev
	pkg-config --exists libcrypto 2>/dev/null || echo libssl-dev
	pkg-config --exists libmaxminddb 2>/dev/null || echo libmaxminddb-dev
	pkg-config --exists avro-c 2>/dev/null || echo libavro-dev
	command -v clang >/dev/null 2>&1 &&
	    ! ls "$(clang -print-resource-dir)"/lib/linux/libclang_rt.fuzzer-*.a \
	    >/dev/null 2>&1 && echo "libclang-rt-$(clang -dumpversion |
	    cut -d. -f1)-dev"
}

build() {
	mkdir -p "$work/artifacts" "$work/corpus" "$work/big" || exit 1
	need=$(missing | tr '\n' ' ')
	[ -z "$need" ] || fail "cannot build: apt-get install $need"
	# Coverage is of the transform's modules and reader.c: the harness is
	# ignored.
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore \
	    -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -I. $(pkg-config --cflags json-c) \
	    tests/fuzz/fuzz_transform.c transform.c jsonscan.c isotime.c names.c \
	    reader.c jsonwalk.c formats.c \
	    $(pkg-config --libs json-c) -o "$bin" >"$work/build.log" 2>&1 ||
	    fail "build failed" "$work/build.log"
	# Coverage of the validator's modules only.
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore \
	    -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -I. $(pkg-config --cflags json-c libpcre2-8) \
	    tests/fuzz/fuzz_validate.c validate.c schema.c formats.c \
	    jsonwalk.c jsonscan.c names.c \
	    $(pkg-config --libs json-c libpcre2-8) -o "$vbin" \
	    >"$work/build-validate.log" 2>&1 ||
	    fail "build failed" "$work/build-validate.log"
	build_stages
}

# The stages' targets: coverage of netcidr.c, and of the stages' modules.
build_stages() {
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore \
	    -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. \
	    tests/fuzz/fuzz_netcidr.c netcidr.c -o "$nbin" \
	    >"$work/build-netcidr.log" 2>&1 ||
	    fail "build failed" "$work/build-netcidr.log"
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore \
	    -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -I. $(pkg-config --cflags json-c libcrypto libmaxminddb) \
	    tests/fuzz/fuzz_anonymize.c transform.c jsonscan.c isotime.c \
	    names.c jsonwalk.c formats.c evedit.c enrich.c netcidr.c \
	    anonymize.c geoip.c config.c route.c \
	    $(pkg-config --libs json-c libcrypto libmaxminddb) -o "$abin" \
	    >"$work/build-anonymize.log" 2>&1 ||
	    fail "build failed" "$work/build-anonymize.log"
	# Coverage of avroenc.c and the transform that feeds it.
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore \
	    -std=c11 -D_GNU_SOURCE -Wall -Wextra \
	    -I. $(pkg-config --cflags json-c avro-c) \
	    tests/fuzz/fuzz_avroenc.c avroenc.c transform.c jsonscan.c \
	    isotime.c names.c jsonwalk.c formats.c \
	    $(pkg-config --libs json-c avro-c) -o "$avbin" \
	    >"$work/build-avroenc.log" 2>&1 ||
	    fail "build failed" "$work/build-avroenc.log"
}

# repeat N STRING: STRING N times, no newline.
repeat() {
	awk -v n="$1" -v s="$2" 'BEGIN { while (n-- > 0) printf "%s", s }'
}

# gen NAME COMMAND...: makes big seed NAME with COMMAND, once.
gen() {
	name=$1
	shift
	[ -f "$work/big/$name" ] && return
	"$@" >"$work/big/$name.$$" && mv "$work/big/$name.$$" "$work/big/$name"
}

r='{"event_type": "purge", "ip_src": "10.0.0.1", "label": "'
t='", "timestamp_start": "2026-11-23 09:33:20.731040", "bytes": 60}'
line_10mb() { printf '%s' "$r"; repeat 10485760 a; printf '%s\n' "$t"; }
line_10mb_crlf() { printf '%s' "$r"; repeat 10485760 a;
	printf '%s\r\n%s1%s\r\n' "$t" "$r" "$t"; }
# 100k members, under line.max's default of 1 MiB.
members() { printf '{"event_type": "purge"'; awk 'BEGIN { for (i = 0;
	i < 100000; i++) printf ",\"%x\":0", i }'; printf '}\n'; }
# 75k names alike but for bytes 1, 3 and 5: weak name hashes collide.
alike() { awk 'BEGIN { d = "0123456789abcdefghijklmnopqrstuvwxyz" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"; printf "{\"ip_src\": \"10.0.0.1\"";
	for (i = 0; i < 75000; i++) printf ",\"a%sa%sa%sxa\":0",
	    substr(d, i % 62 + 1, 1), substr(d, int(i / 62) % 62 + 1, 1),
	    substr(d, int(i / 3844) + 1, 1); print "}" }'; }
nesting() { printf '{"a": '; repeat 100000 '['; repeat 100000 ']';
	printf '}'; }
number() { printf '{"bytes": '; repeat 1000000 9; printf '}'; }

# The seeds too big to commit, made once in $work/big.
big_seeds() {
	gen line-10mb.jsonl line_10mb
	gen line-10mb-crlf-then-record.jsonl line_10mb_crlf
	gen members-100k.jsonl members
	gen members-75k-alike.jsonl alike
	gen nesting-100k.json nesting
	gen nesting-unclosed.json repeat 1000000 '{"a": '
	gen number-1m-digits.json number
	gen lines-200k.jsonl repeat 200000 '{}\n'
}

# Runs each big seed once, whole: -max_len does not cut them there.
# Under ASan the 10 MB line takes about 12 s: a minute is plenty.
run_big() {
	set -- line-10mb.jsonl line-10mb-crlf-then-record.jsonl \
	    nesting-100k.json nesting-unclosed.json number-1m-digits.json \
	    lines-200k.jsonl members-100k.jsonl members-75k-alike.jsonl
	(cd "$work/big" && "$bin" -rss_limit_mb=4096 -timeout=60 "$@") \
	    >"$work/big.log" 2>&1 && return
	seed=$(sed -n 's/^Running: //p' "$work/big.log" | tail -n 1)
	fail "finding on big seed $seed" "$work/big.log"
}

# run_fuzzer BIN LOG SECONDS ARGS...: one bounded run, failing on a
# finding.
run_fuzzer() {
	b=$1 l=$2 t=$3
	shift 3
	start=$(date +%s)
	"$b" -max_total_time="$t" -timeout=20 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" \
	    >"$l" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	if [ "$rc" -ne 0 ]; then
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$l" |
		    tail -n 1)
		fail "finding after ${took} s: ${crash:-no artifact} (exit $rc)" \
		    "$l"
	fi
}

fuzz() {
	cp tests/fuzz/corpus/* "$work/corpus/" || exit 1
	run_fuzzer "$bin" "$log" "$secs" -max_len=131072 \
	    -dict=tests/fuzz/transform.dict "$work/corpus"
}

# part N: SECONDS / N, at least 1 (0 would not end).
part() {
	p=$((secs / $1))
	[ "$p" -gt 0 ] || p=1
	echo "$p"
}

# report LOG: the TAP line of a run that found nothing.
report() {
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1")
	cov=$(grep -E '^#[0-9]+.*cov:' "$1" | tail -n 1 |
	    sed 's/^#[0-9]* *[A-Z]* *//; s/ lim:.*//; s/ exec.*//')
	echo "ok $n - $target ${runs:-?} runs in ${took} s"
	echo "# $cov; log $1"
}

# The validator's seeds: each group of the suite's draft-07 cases as a
# schema line and its data lines, plus the project's own.
validate_seeds() {
	mkdir -p "$work/vcorpus" || exit 1
	cp tests/fuzz/corpus-validate/* "$work/vcorpus/" || exit 1
	[ -d "$suite" ] && command -v python3 >/dev/null || return 0
	python3 - "$suite" "$work/vcorpus" <<'PY' || fail "cannot make seeds"
import glob, json, os, sys
for f in glob.glob(os.path.join(sys.argv[1], "*.json")):
    base = os.path.basename(f)[:-5]
    for i, group in enumerate(json.load(open(f))):
        lines = [json.dumps(group["schema"])]
        lines += [json.dumps(t["data"]) for t in group["tests"]]
        with open(os.path.join(sys.argv[2], "suite-%s-%d" % (base, i)),
                  "w") as out:
            out.write("\n".join(lines) + "\n")
PY
}

build
big_seeds
run_big
fuzz
report "$log"
target=fuzz_validate
n=2
validate_seeds
run_fuzzer "$vbin" "$vlog" $(part 2) -max_len=16384 "$work/vcorpus"
report "$vlog"
target=fuzz_netcidr
n=3
mkdir -p "$work/ncorpus" "$work/acorpus" "$work/avcorpus" || exit 1
cp tests/fuzz/corpus-netcidr/* "$work/ncorpus/" || exit 1
run_fuzzer "$nbin" "$work/fuzz-netcidr.log" $(part 10) -max_len=4096 \
    "$work/ncorpus"
report "$work/fuzz-netcidr.log"
target=fuzz_anonymize
n=4
cp tests/fuzz/corpus-anonymize/* "$work/acorpus/" || exit 1
run_fuzzer "$abin" "$work/fuzz-anonymize.log" $(part 5) -max_len=16384 \
    -dict=tests/fuzz/transform.dict "$work/acorpus"
report "$work/fuzz-anonymize.log"
target=fuzz_avroenc
n=5
cp tests/fuzz/corpus-avroenc/* "$work/avcorpus/" || exit 1
run_fuzzer "$avbin" "$work/fuzz-avroenc.log" $(part 10) -max_len=16384 \
    -dict=tests/fuzz/transform.dict "$work/avcorpus"
report "$work/fuzz-avroenc.log"

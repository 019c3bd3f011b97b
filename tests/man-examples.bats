#!/usr/bin/env bats
# The man page's examples, run as the page writes them, against the mock
# cluster and the project's own samples.
#
# Each example is read from man/kafkatee-pipe.1 when the test runs, never
# copied here: a display (.Bd -literal) named by the comment line
# '.\" example: NAME' just before it.  Every display of EXAMPLES must have
# a name and a test below (the first test checks both ways); displays
# elsewhere are run when they have a name.  The text is unescaped as mandoc
# prints it (\e, \(dq, \&, \-), then these substitutions are made, and
# nothing else:
#
#   kafka1001:9092[,kafka1002:9092...]  the mock cluster's bootstrap
#   /etc/kafkatee-pipe/                 the test's directory (W)
#   /var/lib/kafkatee-pipe/             W
#   /var/spool/pmacct/                  W/spool/
#   /etc/pmacct/                        W/pmacct/
#   /usr/share/doc/kafkatee-pipe/examples  the project's examples/ (the
#                                        package's copy; tests/deb.bats
#                                        runs the display as it is)
#
# W, the working directory of each example, holds:
#   netflow.conf, examples/netflow.conf  examples/netflow.conf with
#                                        brokers = the mock, schemas beside
#   capture.jsonl                        examples/samples/pmacctd-lo-json.jsonl
#                                        (60 records and 2 purge markers)
#   bin/ first in PATH                   kafkatee-pipe ($KTP), and pmacctd and
#                                        nfacctd: stand-ins that print the
#                                        project's capture of each (the real
#                                        collectors run in tests/pmacct),
#                                        and ssh: a stand-in that runs the
#                                        command here (the other host is
#                                        this one)
# An example whose tools are not here is skipped with the reason, which
# bats prints.

load helpers
load records

# The page's displays: "NAME<TAB>SECTION" lines, one a display, for those
# of EXAMPLES (NAME "-" when it has none) and the named ones elsewhere.
# With a NAME argument, that display's text, unescaped.
man_examples() {
        awk -v want="${1:-}" '
        function unroff(s,    out, c, n) {
                out = ""
                while ((n = index(s, "\\")) > 0) {
                        out = out substr(s, 1, n - 1)
                        c = substr(s, n + 1, 1)
                        if (c == "e") { out = out "\\"; s = substr(s, n + 2) }
                        else if (c == "&") s = substr(s, n + 2)
                        else if (c == "-") { out = out "-"; s = substr(s, n + 2) }
                        else if (substr(s, n + 1, 3) == "(dq") {
                                out = out "\""; s = substr(s, n + 4)
                        } else { out = out "\\"; s = substr(s, n + 1) }
                }
                return out s
        }
        /^\.Sh / { sec = substr($0, 5) }
        /^\.Bd -literal/ {
                inside = 1
                if (want == "" && (name != "" || sec == "EXAMPLES"))
                        printf "%s\t%s\n", (name == "" ? "-" : name), sec
                cur = name
                next
        }
        /^\.Ed/ { inside = 0; cur = "" }
        inside && want != "" && cur == want { print unroff($0) }
        { name = "" }
        /^\.\\" example: / { name = $3 }
        ' "$ROOT/man/kafkatee-pipe.1"
}

# example NAME: the display NAME, substituted, as W/NAME; fails if the page
# has no such display.
example() {
        man_examples "$1" |
                sed -e "s#kafka100[0-9]:9092\(,kafka100[0-9]:9092\)*#$BROKERS#g" \
                    -e "s#/etc/kafkatee-pipe/#$W/#g" \
                    -e "s#/var/lib/kafkatee-pipe/#$W/#g" \
                    -e "s#/var/spool/pmacct/#$W/spool/#g" \
                    -e "s#/etc/pmacct/#$W/pmacct/#g" \
                    -e "s#/usr/share/doc/kafkatee-pipe/examples#$ROOT/examples#g" \
                    > "$W/$1"
        [ -s "$W/$1" ] || _fail "man page: no display '.\\\" example: $1'"
}

# run_example NAME: runs the display NAME with sh in W; its status in
# status, stdout in W/out, stderr in W/err.
run_example() {
        example "$1"
        status=0
        (cd "$W" && PATH="$W/bin:$PATH" timeout 120 sh "$W/$1") \
                > "$W/out" 2> "$W/err" || status=$?
        if [ "$status" -ne "${2:-0}" ]; then
                cat "$W/$1" "$W/err" >&2
                _fail "example $1: exit $status, the page says ${2:-0}"
        fi
}

# stand_in NAME SAMPLE: a collector that prints SAMPLE whatever it is given.
stand_in() {
        printf '#!/bin/sh\n# stand-in for %s: the project'"'"'s capture\nexec cat "%s"\n' \
                "$1" "$ROOT/examples/samples/$2" > "$W/bin/$1"
        chmod +x "$W/bin/$1"
}

# conf DIR: examples/netflow.conf in DIR, brokers = the mock, schemas beside.
conf() {
        mkdir -p "$1"
        sed "s#^brokers = .*#brokers = $BROKERS#" \
                "$ROOT/examples/netflow.conf" > "$1/netflow.conf"
        ln -s "$ROOT/examples/schemas" "$1/schemas"
}

setup() {
        export TZ=UTC
        W=$BATS_TEST_TMPDIR/w
        mkdir -p "$W/bin" "$W/spool" "$W/pmacct"
        mock_start
        ln -s "$KTP" "$W/bin/kafkatee-pipe"
        stand_in pmacctd pmacctd-lo-json.jsonl
        stand_in nfacctd nfacctd-ipfix-epoch.jsonl
        printf '#!/bin/sh\n# stand-in for ssh: HOST COMMAND... run here\nshift\nexec "$@"\n' \
                > "$W/bin/ssh"
        chmod +x "$W/bin/ssh"
        conf "$W"
        conf "$W/examples"
        cp "$ROOT/examples/samples/pmacctd-lo-json.jsonl" "$W/capture.jsonl"
}

teardown() {
        # the service the systemctl stand-in started, if the test failed
        if [ -s "$W/unit.pid" ]; then
                kill -9 "$(cat "$W/unit.pid")" 2>/dev/null || true
        fi
        mock_stop
}

# events TOPIC: the number of events in TOPIC, each checked to be one.
events() {
        consume_values "$1" | jq -e -s 'map(.meta.stream) | length' ||
                _fail "$1: not events"
}

@test "every display of EXAMPLES has a name and a test; every name is in the page" {
        man_examples > "$BATS_TEST_TMPDIR/index"
        [ -s "$BATS_TEST_TMPDIR/index" ]
        bad=$(awk -F '\t' '$1 == "-"' "$BATS_TEST_TMPDIR/index")
        [ -z "$bad" ] || _fail "EXAMPLES displays without '.\\\" example: NAME':" "$bad"
        names=$(cut -f1 "$BATS_TEST_TMPDIR/index" | sort)
        tests=$(grep -o '^@test "example [a-z-]*' "$BATS_TEST_FILENAME" |
                sed 's/.* //' | sort)
        [ "$names" = "$tests" ] || _fail "names in the page and tests differ:" \
                "$(diff <(echo "$names") <(echo "$tests"))"
}

@test "example pipe: pmacctd into kafkatee-pipe, every record to eqiad.netflow" {
        run_example pipe 0
        [ "$(events eqiad.netflow)" -eq 60 ]
}

@test "example pmacctd: the same from /etc, exit 0" {
        run_example pmacctd 0
        [ "$(events eqiad.netflow)" -eq 60 ]
        counters "$W/err"
        [ "$delivered" -eq 60 ]
}

@test "example nfacctd: -b and -o datacenter, nothing dead-lettered" {
        run_example nfacctd 0
        [ "$(events eqiad.netflow)" -eq 120 ]
        [ ! -s "$W/nfacctd.dead.jsonl" ]
}

@test "example dry-run: --stdout | jq . prints the events" {
        run_example dry-run 0
        [ "$(jq -s 'map(select(.meta.stream == "netflow" and .dt)) | length' "$W/out")" -eq 60 ]
        [ "$(events eqiad.netflow)" -eq 0 ]
}

@test "example package: the packaged example configuration on its capture, without Kafka" {
        run_example package 0
        [ "$(jq -s 'map(select(.dt and .ip_src and .bytes)) | length' "$W/out")" -eq 60 ]
        [ "$(jq -s 'map(keys | length == 4) | all' "$W/out")" = true ]
        [ "$(events eqiad.netflow)" -eq 0 ]
}

@test "example pmacct-service: the files nfacctd wrote shipped and removed, exit 0" {
	# stand-in for nfacctd as a daemon: two purges already written,
	# pmacct's way (purge_init, records, purge_close), then it returns
	printf '#!/bin/sh\n# stand-in for nfacctd: two purges written as files\nmkdir -p "%s"\nfor t in 20261201T100000Z 20261201T100100Z; do cp "%s" "%s/nfacctd-$t.json"; done\n' \
		"$W/nfacctd.in" "$W/capture.jsonl" "$W/nfacctd.in" > "$W/bin/nfacctd"
	run_example pmacct-service 0
	[ "$(events eqiad.netflow)" -eq 120 ]
	[ -z "$(ls "$W/nfacctd.in")" ]
	grep -q 'summary: read=124 .*delivered=120 ' "$W/err"
}

@test "example systemd-nfacctd: the two services set up as SYSTEMD says; what nfacctd writes reaches Kafka" {
	# systemctl: tests/man/systemctl, which runs the template unit's
	# ExecStart; install: without -o and -g (the package's user may not
	# be on this machine); nfacctd: writes two purges where the copied
	# configuration's print_output_file says (/var/lib/kafkatee-pipe
	# mapped), as pmacct names them
	cp "$ROOT/tests/man/systemctl" "$W/bin/systemctl"
	printf '#!/bin/sh\n# stand-in for install: -o and -g left out\nwhile getopts do:g:m: o; do case $o in d) ;; m) mode=$OPTARG;; esac; done\nshift $((OPTIND - 1))\nexec mkdir -p -m "$mode" "$@"\n' > "$W/bin/install"
	cat > "$W/bin/nfacctd" <<-'EOS'
	#!/bin/sh
	# stand-in for nfacctd -f CONF: two purges into print_output_file's
	# directory, named by its pattern, as pmacct writes them
	pat=$(sed -n 's/^print_output_file\[nf\]: //p' "$2" |
	        sed "s#^/var/lib/kafkatee-pipe/#$W/#")
	for t in 1 2; do
	        f=$(date -u -d "@$((1764583200 + 60 * t))" +"$(basename "$pat")")
	        cp "$CAPTURE" "$(dirname "$pat")/$f"
	done
	EOS
	chmod +x "$W/bin/systemctl" "$W/bin/install" "$W/bin/nfacctd"
	export W ROOT KTP BROKERS CAPTURE=$W/capture.jsonl
	run_example systemd-nfacctd 0
	grep -q 'active (running)' "$W/out"
	wait_for_count eqiad.netflow 120
	pid=$(cat "$W/unit.pid")
	kill -TERM "$pid"
	wait_for sh -c "! kill -0 $pid 2>/dev/null"
	cat "$W/unit.err"
	grep -q 'summary: read=124 .*delivered=120 .*exit=0' "$W/unit.err"
	[ "$(events eqiad.netflow)" -eq 120 ]
	[ -z "$(ls -A "$W/nfacctd.in")" ]
	[ ! -s "$W/nfacctd.dead.jsonl" ]
}

@test "example validate: refused records to the error topic, their reasons counted" {
        broken_records "$W/capture.jsonl" >> "$W/capture.jsonl"
        run_example validate 0
        counters "$W/err"
        [ "$exit" -eq 3 ]
        [ "$invalid" -eq 4 ]
        [ "$(events eqiad.netflow)" -eq 62 ]
        [ "$(events eqiad.netflow.error)" -eq 4 ]
        # uniq -c: "1 /POINTER: what (keyword)", one line a reason
        [ "$(grep -c '^ *1 /[a-z_]*: .* ([a-zA-Z]*)$' "$W/out")" -eq 4 ]
}

@test "example dump-compare: two hosts of one configuration: no difference" {
        run_example dump-compare 0
        grep -qx '# kafkatee-pipe settings' "$W/here.txt"
        grep -qx "brokers = $BROKERS" "$W/here.txt"
        grep -qx 'enable.idempotence = true' "$W/here.txt"
        [ ! -s "$W/out" ]
}

@test "example dry-run-routing: topic, key and event, ten of them" {
        run_example dry-run-routing 0
        [ "$(wc -l < "$W/out")" -eq 10 ]
        [ "$(cut -f 1 "$W/out" | sort -u)" = eqiad.netflow ]
        # netflow.conf keys by nothing: an empty key, then the event
        [ "$(cut -f 2 "$W/out" | sort -u)" = "" ]
        cut -f 3 "$W/out" | jq -e -s 'length == 10 and all(.meta.stream == "netflow")'
        [ "$(events eqiad.netflow)" -eq 0 ]
}

@test "example mock-broker: an in-process mock broker, exit 0" {
        run_example mock-broker 0
        counters "$W/err"
        [ "$delivered" -eq 60 ]
        [ "$skipped" -eq 2 ]
}

@test "example cron: the previous hour's file shipped and removed; kept when records are lost" {
        # the hour may turn while the test runs: a file for each of two
        # hours, and the script must ship (remove) exactly one
        now=$(date +%Y%m%d%H)
        ago=$(date -d '1 hour ago' +%Y%m%d%H)
        for h in "$now" "$ago"; do
                cp "$W/capture.jsonl" "$W/spool/flows-$h.jsonl"
        done
        run_example cron 0
        [ ! -s "$W/err" ]
        [ "$(ls "$W/spool" | grep -c '^flows-[0-9]*\.jsonl$')" -eq 1 ]
        [ "$(events eqiad.netflow)" -eq 60 ]
        # a line that is no record: exit 1, the file and its dead letters kept
        for h in "$now" "$ago"; do
                echo 'not json' >> "$W/spool/flows-$h.jsonl"
        done
        run_example cron 1
        grep -q 'records lost, see .*\.dead$' "$W/err"
        [ "$(ls "$W/spool" | grep -c '^flows-[0-9]*\.jsonl$')" -eq 2 ]
        [ "$(cat "$W"/spool/*.dead | jq -r .reason)" = invalid ]
}

@test "example pmacct-memory: the memory table through a file, each event timed by the read" {
        # the client's output: examples/samples/pmacct-memory-json.jsonl
        stand_in pmacct pmacct-memory-json.jsonl
        run_example pmacct-memory 0
        counters "$W/err"
        [ "$read" -eq 20 ]
        [ "$delivered" -eq 20 ]
        [ "$skipped" -eq 0 ]
        cmp "$ROOT/examples/samples/pmacct-memory-json.jsonl" "$W/memory.jsonl"
        [ "$(events eqiad.netflow)" -eq 20 ]
        consume_values eqiad.netflow | jq -e -s 'all(.dt == .meta.dt)'
        [ ! -s "$W/memory.dead.jsonl" ]
}

# dead_letters [LINE]: dead.jsonl of a run with every broker down: each
# record's event purged at the flush (reason shutdown), and LINE invalid.
dead_letters() {
        mock_cmd "down -1"
        { cat "$W/capture.jsonl"; [ -z "${1:-}" ] || echo "$1"; } |
                "$KTP" -c "$W/netflow.conf" -o flush.timeout.ms=500 \
                        --dead-letter "$W/dead.jsonl" 2> "$W/err0" || :
        mock_cmd "up -1"
        counters "$W/err0"
        [ "$failed" -eq 60 ]
}

@test "example replay: the failed events replayed, the audit finds no gap" {
        dead_letters
        run_example replay 0
        grep -q 'total: 1 producers, 1 runs, 60 events, 0 missing, 0 duplicates' "$W/out"
        [ "$(jq -r .reason "$W/dead.replay.jsonl" | sort -u)" = shutdown ]
        [ ! -s "$W/dead.jsonl" ]
}

@test "example replay-events: only the events replayed, the invalid line left" {
        dead_letters 'not json'
        mv "$W/dead.jsonl" "$W/dead.replay.jsonl"
        [ "$(wc -l < "$W/dead.replay.jsonl")" -eq 61 ]
        run_example replay-events 0
        counters "$W/err"
        [ "$read" -eq 60 ]
        [ "$delivered" -eq 60 ]
        [ "$(events eqiad.netflow)" -eq 60 ]
        [ ! -s "$W/dead.jsonl" ]
}

@test "example dead-letter-lines: the lines back byte for byte, one a line" {
        # not UTF-8, a tab, quotes and a backslash; a record between them
        printf '{"a":1\ncaf\351 "q" \\ x\n' > "$W/lines"
        printf 'not\tjson\n' >> "$W/lines"
        { head -n 1 "$W/lines"; cat "$W/capture.jsonl"; tail -n +2 "$W/lines"; } \
                > "$W/in"
        "$KTP" -q --stdout --dead-letter "$W/dead.jsonl" < "$W/in" > /dev/null || :
        [ "$(wc -l < "$W/dead.jsonl")" -eq 3 ]
        grep -q raw_base64 "$W/dead.jsonl"
        run_example dead-letter-lines 0
        cmp "$W/lines" "$W/out"
}

@test "example route-config: a topic per exporter, keys by flow, headers" {
        example route-config
        { echo "brokers = $BROKERS"; cat "$W/route-config"; } > "$W/route.conf"
        "$KTP" -q -c "$W/route.conf" \
                < "$ROOT/examples/samples/nfacctd-ipfix-epoch.jsonl"
        [ "$(events netflow.127.0.0.1)" -eq 120 ]
        # each key is the event's ip_src:ip_dst; every message has both headers
        timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t netflow.127.0.0.1 \
                -o beginning -e -q -f '%h\t%k\t%s\n' > "$W/msgs"
        [ "$(cut -f1 "$W/msgs" | sort -u)" = \
                "content-type=application/json,schema_uri=/netflow/flow/1.1.0" ]
        [ "$(cut -f2- "$W/msgs" | jq -R 'split("\t") |
                .[0] == (.[1] | fromjson | "\(.ip_src):\(.ip_dst)")' |
                sort | uniq -c | awk '{ print $1, $2 }')" = "120 true" ]
}

@test "example compress: zstd and linger.ms, every record delivered" {
        run_example compress 0
        [ "$(events eqiad.netflow)" -eq 60 ]
}

@test "example audit-topic: a topic audited, JSON report, nothing missing" {
        "$KTP" -q -b "$BROKERS" -t webrequest_text < "$W/capture.jsonl"
        run_example audit-topic 0
        [ "$(jq -c '[.events, .missing, .runs_count]' "$W/out")" = "[60,0,1]" ]
}

@test "example avro-tools: fragtojson reads a message" {
        skip "needs avro-tools.jar and a topic of Avro messages: tests/avro.bats runs fragtojson"
        example avro-tools
}

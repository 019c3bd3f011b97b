#!/usr/bin/env bats
# The directory input (input.dir, issue 16) on librdkafka's mock cluster.
# A shell stand-in for pmacct's print plugin writes one file per purge,
# as print_output_file with time-stamped names and print_markers: true
# make it (purge_init, the records, purge_close with purged_entries).
# Every test counts the events by their tag: none lost, none twice (or
# the duplicates a kill -9 costs, counted), and checks the summary's
# invariant (records.bash: counters).

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
        IN=$T/in
        mkdir -p "$IN"
}

teardown() {
        proc_stop_all
        mock_stop
}

# purge FILE FIRST N: one purge of N records, tags FIRST.., written as
# pmacct's print plugin writes it with print_markers: true.
purge() {
        {
                purge_open "$2" "$3"
                purge_close "$3"
        } >"$1"
}

# Each purge has a writer of its own, as pmacct's (a child process a
# purge: "NAME/PID"); the purge check takes a purge_init of the last
# purge_close's writer for a later piece of the same purge.
purge_open() {
        WRITER=out/$((4000 + $1))
        echo "{\"event_type\": \"purge_init\", \"writer_id\": \"$WRITER\"}"
        gen "$2" "$1"
}

purge_close() {
        echo "{\"event_type\": \"purge_close\", \"writer_id\": \"$WRITER\", \"purged_entries\": $1, \"total_entries\": $1, \"duration\": 0}"
}

tags() {
        consume_values "$1" | jq -r .tag | sort -n
}

# same LIST1 LIST2 (files): equal, or the first differences said.
same() {
        diff "$1" "$2" >"$T/diff" && return 0
        echo "$(grep -c '^<' "$T/diff") missing, $(grep -c '^>' "$T/diff") extra:" >&2
        head -n 20 "$T/diff" >&2
        return 1
}

# The files left in the input directory, dot files too.
left() {
        ls -A "$IN"
}

# left_is [NAME]: only NAME is left (nothing without it), for wait_for.
left_is() {
        [ "$(left)" = "${1:-}" ]
}

@test "indir: several files taken in name order, every record delivered once, the files removed" {
        mock_start -t t:1
        purge "$IN/20261201-100200.json" 201 100
        purge "$IN/20261201-100000.json" 1 100
        purge "$IN/20261201-100100.json" 101 100
        bytes=$(cat "$IN"/* | wc -c)
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true -o stats.file="$T/stats.json" \
                -o metrics.file="$T/m.prom"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq 300 ]
        [ "$skipped" -eq 6 ]
        [ "$purge_mismatches" -eq 0 ]
        # in the order of the names: the order pmacct purged them
        same <(seq 300) <(consume_values t | jq -r .tag)
        [ -z "$(left)" ]
        jq -e --argjson b "$bytes" \
                '.input_dir == {"files": 3, "stale": 0, "bytes": $b, "errors": 0}' \
                "$T/stats.json"
        grep -q '^kafkatee_pipe_input_files_total{.*} 3$' "$T/m.prom"
        grep -q '^kafkatee_pipe_input_files_stale_total{.*} 0$' "$T/m.prom"
}

@test "indir: a real pmacctd file (the project's sample) is taken whole, its purge check holds" {
        mock_start -t t:1
        cp "$ROOT/examples/samples/pmacctd-lo-json.jsonl" \
                "$IN/20261123-083300.json"
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true -o dt.timezone=Europe/Paris
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq 60 ]
        [ "$purge_mismatches" -eq 0 ]
        [ "$(high_watermarks t)" -eq 60 ]
        [ -z "$(left)" ]
}

@test "indir: a file still being written is not taken before its purge_close" {
        mock_start -t t:1
        proc_start ktp "$KTP" -v -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.scan.ms=50 -o input.dir.quiet.ms=3600000
        purge_open 1 50 >"$IN/20261201-100000.json"
        wait_for_line "$(proc_file ktp err)" \
                'waiting for 20261201-100000.json to be complete'
        [ "$(high_watermarks t)" -eq 0 ]
        [ "$(left)" = 20261201-100000.json ]
        { gen 50 51; purge_close 100; } >>"$IN/20261201-100000.json"
        purge "$IN/20261201-100100.json" 101 10
        wait_for_count t 110
        WAIT_TIMEOUT=10 wait_for left_is
        proc_signal ktp TERM
        proc_wait ktp 30
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 110 ]
        [ "$purge_mismatches" -eq 0 ]
        same <(seq 110) <(consume_values t | jq -r .tag)
}

@test "indir: a file without purge_close, not modified for input.dir.quiet.ms, is taken with a warning; its cut line dead-lettered" {
        mock_start -t t:1
        purge "$IN/20261201-100000.json" 1 5
        { purge_open 6 10; printf '{"event_type": "purge", "tag": 99'; } \
                >"$IN/20261201-100100.json"
        touch -d '-1 minute' "$IN/20261201-100100.json"
        purge "$IN/20261201-100200.json" 16 5
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true -o input.dir.quiet.ms=5000 \
                --dead-letter "$T/dead" -o stats.file="$T/stats.json"
        [ "$status" -eq 3 ]
        counters <(echo "$output")
        [ "$delivered" -eq 20 ]
        [ "$invalid" -eq 1 ]
        [[ "$output" == *"input.dir: 20261201-100100.json has no purge_close and was not modified for 5000 ms: taken as it is"* ]]
        same <(seq 20) <(consume_values t | jq -r .tag)
        [ -z "$(left)" ]
        # its line number in its file, and the file named
        [ "$(wc -l <"$T/dead")" -eq 1 ]
        jq -e '.input == "20261201-100100.json" and .line == 12 and
                .reason == "invalid"' "$T/dead"
        jq -e '.input_dir.files == 3 and .input_dir.stale == 1' \
                "$T/stats.json"
        # --replay reads such a record: the line is still cut (invalid)
        run "$KTP" --stdout --replay "$T/dead"
        [ "$status" -eq 3 ]
        [[ "$output" == *"stdin:1: invalid: not JSON"* ]]
}

@test "indir: the purge marker check holds per file: a purge that lacks records is said, the next file's is not mixed in" {
        mock_start -t t:1
        # the first announces 6 records and holds 5
        { purge_open 1 5; purge_close 6; } >"$IN/20261201-100000.json"
        purge "$IN/20261201-100100.json" 6 5
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$purge_mismatches" -eq 1 ]
        [[ "$output" == *"pmacct purge: 6 records announced, 5 read"* ]]
        [ "$delivered" -eq 10 ]
}

# slow_run: ktp on input.dir against a slow broker (20 events in flight,
# 100 ms a request), so that a file of 5000 records takes many seconds:
# it is stopped in the middle of it.  (Few records: the mock keeps only
# so much a partition, and the tests read the topic back whole.)
# slow_run [OPTION...]: the mock slowed down, the run started on $IN,
# back once 200 events arrived; by default its own high-water mark pauses
# the reading.
slow_run() {
        mock_cmd "rtt -1 100"
        [ $# -gt 0 ] || set -- -o queue.high.messages=20
        proc_start ktp "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                --dead-letter "$T/dead" "$@"
        wait_for_count t 200
}

# resume_all TOTAL: the run after a stop, the broker fast again, takes
# the rest: with the $first events of the stopped run, tags 1..TOTAL,
# each once; every file removed, nothing dead-lettered.
resume_all() {
        mock_cmd "rtt -1 0"
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true --dead-letter "$T/dead"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq $(($1 - first)) ]
        [ "$purge_mismatches" -eq 0 ]
        [ -z "$(left)" ]
        [ ! -s "$T/dead" ]
        same <(seq "$1") <(tags t)
}

@test "indir: SIGTERM in the middle of a file, then a restart: none lost, none twice" {
        mock_start -t t:3
        purge "$IN/20261201-100000.json" 1 5000
        purge "$IN/20261201-100100.json" 5001 100
        slow_run
        proc_signal ktp TERM
        proc_wait ktp 60
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        first=$delivered
        [ "$first" -lt 5000 ]
        [ "$failed" -eq 0 ]
        # where it stopped: byte, line, file
        grep -q ' 20261201-100000.json$' "$IN/.kafkatee-pipe.offset"
        [ -f "$IN/20261201-100000.json" ]
        resume_all 5100
}

@test "indir: SIGTERM while librdkafka's queue is full: the record held back is sent in the flush, none lost" {
        mock_start -t t:3
        purge "$IN/20261201-100000.json" 1 5000
        # librdkafka's own queue fills first: a record is held back
        slow_run -X queue.buffering.max.messages=10 \
                -o queue.high.messages=100000
        proc_signal ktp TERM
        proc_wait ktp 60
        [ "$PROC_STATUS" -eq 0 ]
        counters "$(proc_file ktp err)"
        first=$delivered
        [ "$failed" -eq 0 ]
        [ ! -s "$T/dead" ]
        resume_all 5000
}

@test "indir: kill -9 in the middle of a file, then a restart: none lost; the duplicates counted" {
        mock_start -t t:3
        purge "$IN/20261201-100000.json" 1 5000
        slow_run
        proc_signal ktp KILL
        proc_wait ktp 10 || true
        # no offset: the file is read again from its start
        [ ! -e "$IN/.kafkatee-pipe.offset" ]
        mock_cmd "rtt -1 0"
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$delivered" -eq 5000 ]
        [ -z "$(left)" ]
        same <(seq 5000) <(tags t | uniq)
        total=$(high_watermarks t)
        [ "$total" -gt 5000 ]
        echo "duplicates after kill -9: $((total - 5000))" >&3
        # the audit sees two runs of the producer
        "$KTP" --audit -b "$BROKERS" -t t --json >"$T/audit.json" || true
        jq -e '.runs_count == 2' "$T/audit.json"
}

@test "indir: the broker down with spool.dir: the files are still taken and removed; all delivered once it is back" {
        mock_start -t t:1
        mock_cmd "down -1"
        purge "$IN/20261201-100000.json" 1 100
        purge "$IN/20261201-100100.json" 101 100
        purge "$IN/20261201-100200.json" 201 100
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true -o spool.dir="$T/spool" \
                -X message.timeout.ms=1000 -o flush.timeout.ms=2000
        [ "$status" -eq 4 ]
        counters <(echo "$output")
        [ "$kept" -eq 300 ]
        [ "$failed" -eq 0 ]
        [ -z "$(left)" ]
        mock_cmd "up -1"
        run "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.once=true -o spool.dir="$T/spool"
        [ "$status" -eq 0 ]
        counters <(echo "$output")
        [ "$carried" -eq 300 ]
        [ "$delivered" -eq 300 ]
        same <(seq 300) <(consume_values t | jq -r .tag)
}

@test "indir: a file it cannot open is said once and counted, left there; the others are taken" {
        mock_start -t t:1
        proc_start ktp "$KTP" -b "$BROKERS" -t t --input-dir "$IN" \
                -o input.dir.scan.ms=20 -o stats.file="$T/stats.json" \
                -o stats.interval.ms=100
        purge "$T/elsewhere.json" 1 5
        ln -s "$T/elsewhere.json" "$IN/20261201-100000.json"
        purge "$IN/20261201-100100.json" 6 5
        wait_for_count t 5
        # scans go on: a later file is taken too, the link is not said again
        purge "$IN/20261201-100200.json" 11 5
        wait_for_count t 10
        WAIT_TIMEOUT=10 wait_for left_is 20261201-100000.json
        proc_signal ktp TERM
        proc_wait ktp 30
        [ "$PROC_STATUS" -eq 0 ]
        err=$(proc_file ktp err)
        [ "$(grep -c 'cannot open .*/20261201-100000.json: a symbolic link (only regular files are taken): left there' "$err")" -eq 1 ]
        jq -e '.input_dir.errors == 1 and .input_dir.files == 2' \
                "$T/stats.json"
        same <(seq 6 15) <(consume_values t | jq -r .tag)
}

@test "indir: errors at start: exit 1 with the place of the key" {
        run "$KTP" --stdout --input-dir "$T/none"
        [ "$status" -eq 1 ]
        [[ "$output" == *"--input-dir $T/none: input.dir: $T/none: No such file or directory"* ]]
        printf 'input.dir = %s\n' "$T/none" >"$T/c.conf"
        run "$KTP" --stdout -c "$T/c.conf"
        [ "$status" -eq 1 ]
        [[ "$output" == *"$T/c.conf:1: input.dir: $T/none: No such file"* ]]
        : >"$T/file"
        run "$KTP" --stdout -o input.dir="$T/file"
        [ "$status" -eq 1 ]
        [[ "$output" == *"Not a directory"* ]]
        : >"$T/dl"
        run "$KTP" --stdout --input-dir "$IN" --replay "$T/dl"
        [ "$status" -eq 1 ]
        [[ "$output" == *"not with input.dir"* ]]
}

@test "indir: a directory it cannot write is refused at start (it removes the files)" {
        [ "$(id -u)" -ne 0 ] || skip "root writes anywhere"
        chmod 555 "$IN"
        run "$KTP" --stdout --input-dir "$IN"
        chmod 755 "$IN"
        [ "$status" -eq 1 ]
        [[ "$output" == *"Permission denied (its files are read and removed"* ]]
}

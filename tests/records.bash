# records.bash: test records and the summary invariant, for the bats files.

# gen N [FIRST]: N pmacct-like records, tags FIRST.. (default 1).
gen() {
        awk -v n="$1" -v first="${2:-1}" 'BEGIN {
                for (i = first; i < first + n; i++)
                        printf "{\"event_type\": \"purge\", \"tag\": %d, " \
                            "\"ip_src\": \"10.0.%d.%d\", \"ip_dst\": " \
                            "\"10.1.0.1\", \"port_src\": %d, \"port_dst\": " \
                            "443, \"tcp_flags\": \"2\", \"ip_proto\": " \
                            "\"tcp\", \"timestamp_start\": " \
                            "\"2026-11-23 08:33:20.731040\", \"packets\": " \
                            "1, \"bytes\": %d}\n", i, i % 7, int(i / 7) % 256,
                            1024 + i % 60000, i * 1000
        }'
}

# counters FILE: the summary counters of a stderr file as shell variables,
# and the invariant every run keeps.
counters() {
        carried=0 kept=0 spooled=0 replayed=0 spool_lost=0
        eval "$(grep -o 'summary: .*' "$1" | sed 's/^summary: //')"
        figures
        # an earlier run's events carried in the spool, this run's kept
        [ $((read + ${carried:-0})) -eq \
          $((delivered + failed + invalid + skipped + ${kept:-0})) ]
}

# figures: appends this test's counters and peak RSS to
# $TEST_LOGS/figures.txt, the numbers behind the closing notes.
figures() {
        local dir=${TEST_LOGS:-$ROOT/build/test-logs}

        mkdir -p "$dir" 2>/dev/null || return 0
        printf '%s\t%s\tread=%s delivered=%s failed=%s invalid=%s dead_lettered=%s exit=%s%s\n' \
                "$(basename "$BUILD")" "$BATS_TEST_DESCRIPTION" "$read" \
                "$delivered" "$failed" "$invalid" "$dead_lettered" "$exit" \
                "${peak_rss:+ peak_rss=$peak_rss}" >> "$dir/figures.txt"
}

# timed_rss FILE CMD...: runs CMD, its peak RSS in KiB into RSS_KB after.
timed_rss() {
        local out=$1

        shift
        /usr/bin/time -f '%M' -o "$out" "$@"
}

# broken_records SAMPLE: the sample's first record, then the same broken
# on purpose as issue 10 lists (a glued key, a negative counter, a port
# over 65535, a required field missing), then the record again.
broken_records() {
        local l

        l=$(grep -m1 '"event_type": "purge"' "$1")
        printf '%s\n' "$l"
        printf '%s\n' "$l" | sed 's/"bytes"/"bytesytes"/'
        printf '%s\n' "$l" | sed 's/"packets": [0-9]*/"packets": -1/'
        printf '%s\n' "$l" | sed 's/"port_dst": [0-9]*/"port_dst": 70000/'
        printf '%s\n' "$l" | sed 's/"ip_src": "[^"]*", //'
        printf '%s\n' "$l"
}

# The messages of broken_records' four, in order.
BROKEN_MESSAGES='/bytesytes: the property is not allowed (additionalProperties)
/packets: -1 is less than the minimum 0 (minimum)
/port_dst: 70000 is greater than the maximum 65535 (maximum)
/ip_src: the required property is missing (required)'

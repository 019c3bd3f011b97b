#!/usr/bin/env bats
# The enrich stage end to end (ENRICHMENT in the man page): members from
# MaxMind DB files that tests/mmdb/mkmmdb.pl builds here, on --stdout
# and on the mock cluster; the SIGHUP reopen with no record lost; the
# errors at start.  Every run checks read = delivered + failed + invalid
# + skipped.

load helpers
load records

setup() {
        export TZ=UTC
        T=$BATS_TEST_TMPDIR
        perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null ||
                skip "no MaxMind::DB::Writer (libmaxmind-db-writer-perl: make deps)"
        perl "$ROOT/tests/mmdb/mkmmdb.pl" "$T"
        printf '%s\n' '# test networks' '192.0.2.0/24 doc' \
                '192.0.2.128/25 doc-hi  # longer' '2001:db8::/32 doc6' \
                > "$T/nets.txt"
        SOURCES=(-o "enrich.geoip.country=$T/country.mmdb"
                 -o "enrich.geoip.asn=$T/asn.mmdb"
                 -o "enrich.net.file=$T/nets.txt")
}

teardown() {
        proc_stop_all
        mock_stop
}

# rec SRC DST: a record with these ip_src and ip_dst (JSON values).
rec() {
        printf '{"event_type": "purge", "ip_src": %s, "ip_dst": %s, "port_src": 443, "port_dst": 51000, "ip_proto": "tcp", "packets": 1, "bytes": 60}\n' "$1" "$2"
}

# added < events: the members the stage adds, one object a line.
added() {
        jq -c 'with_entries(select(.key | test("^(ip_version|country_|as_|net_)")))'
}

@test "--stdout: country, AS, AS name and net label of IPv4 and IPv6 addresses; misses left out" {
        {
                rec '"192.0.2.7"' '"2001:db8::5"'
                rec '"192.0.2.200"' '"198.51.100.9"'
                rec '"203.0.113.1"' '"2001:db8:ffff::1"'
                rec '"host.example"' '"::1"'
                rec 17 null
        } > "$T/in"
        "$KTP" --stdout "${SOURCES[@]}" < "$T/in" > "$T/out" 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 5 ]
        added < "$T/out" > "$T/got"
        cat > "$T/want" <<'EOF'
{"ip_version":4,"country_src":"FR","as_src":64496,"as_name_src":"Exämple \"Quoted\" Networks","net_cidr_src":"doc","country_dst":"NL","as_dst":64511,"as_name_dst":"Doc Six","net_cidr_dst":"doc6"}
{"ip_version":4,"country_src":"FR","as_src":64496,"as_name_src":"Exämple \"Quoted\" Networks","net_cidr_src":"doc-hi","country_dst":"JP","as_dst":64500,"as_name_dst":"Plain Org"}
{"ip_version":4,"net_cidr_dst":"doc6"}
{"ip_version":6}
{}
EOF
        diff "$T/want" "$T/got"
        # the members come last, in the documented order
        head -1 "$T/out" | jq -r 'keys_unsorted[-10:] | join(" ")' > "$T/order"
        [ "$(cat "$T/order")" = "bytes ip_version country_src as_src as_name_src net_cidr_src country_dst as_dst as_name_dst net_cidr_dst" ]
}

@test "names: FIELD:DIR, templates, no ip_version; a name the event has is kept" {
        rec '"192.0.2.7"' '"2001:db8::5"' | sed 's/"bytes"/"as_src": 7, "bytes"/' |
                "$KTP" --stdout -o enrich.geoip.asn="$T/asn.mmdb" \
                -o 'enrich.fields=ip_src, ip_dst:to' -o 'enrich.name.as_name=org_%s' \
                -o enrich.name.ip_version= > "$T/out" 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 1 ]
        jq -c '[.as_src, .org_src, .as_to, .org_to, has("ip_version"), has("country_src")]' "$T/out" > "$T/got"
        [ "$(cat "$T/got")" = '[7,"Exämple \"Quoted\" Networks",64511,"Doc Six",false,false]' ]
}

@test "relative database paths in a config file are taken from its directory" {
        mkdir "$T/etc"
        mv "$T/country.mmdb" "$T/etc/"
        printf 'enrich.geoip.country = country.mmdb\n' > "$T/etc/k.conf"
        cd /
        rec '"192.0.2.7"' null | "$KTP" -c "$T/etc/k.conf" --stdout > "$T/out" 2> "$T/err"
        [ "$(jq -r .country_src "$T/out")" = FR ]
}

@test "a missing or broken source at start: exit 1, the key and the file named" {
        for key in enrich.geoip.country enrich.geoip.asn enrich.net.file; do
                run "$KTP" --stdout -o "$key=$T/none" < /dev/null
                [ "$status" -eq 1 ]
                [[ "$output" == *"$key: $T/none: No such file or directory"* ]]
        done
        run "$KTP" --stdout -o "enrich.geoip.country=$T/nets.txt" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"enrich.geoip.country: $T/nets.txt: not a MaxMind DB file"* ]]
        printf '10.0.0.0/8 a\n10.0.0.1/8 b\n' > "$T/bad.txt"
        run "$KTP" --stdout -o "enrich.net.file=$T/bad.txt" < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"$T/bad.txt:2: host bits set after the prefix length"* ]]
        run "$KTP" --stdout -o enrich.fields=ip_src < /dev/null
        [ "$status" -eq 1 ]
        [[ "$output" == *"enrich: no source: set enrich.geoip.country"* ]]
}

@test "stats and metrics: the lookups' cache hits and misses, and those that found nothing" {
        {
                rec '"192.0.2.7"' '"2001:db8::5"'   # two misses
                rec '"192.0.2.7"' '"2001:db8::5"'   # two hits
                rec '"203.0.113.1"' '"203.0.113.1"' # a miss, a hit: nothing known
                rec '"host.example"' null           # no lookup
        } > "$T/in"
        "$KTP" --stdout "${SOURCES[@]}" -o stats.file="$T/stats" \
                -o metrics.file="$T/metrics" < "$T/in" > "$T/out" 2> "$T/err"
        counters "$T/err"
        [ "$delivered" -eq 4 ]
        jq -c '[.geoip_cache_hits, .geoip_cache_misses, .geoip_not_found]' \
                "$T/stats" > "$T/got"
        [ "$(cat "$T/got")" = '[3,3,2]' ]
        grep -q '^kafkatee_pipe_geoip_cache_hits_total{.*} 3$' "$T/metrics"
        grep -q '^kafkatee_pipe_geoip_cache_misses_total{.*} 3$' "$T/metrics"
        grep -q '^kafkatee_pipe_geoip_not_found_total{.*} 2$' "$T/metrics"
        # without the stage, neither file has them
        "$KTP" --stdout -o stats.file="$T/stats" -o metrics.file="$T/metrics" \
                < "$T/in" > /dev/null 2>&1
        [ "$(jq 'has("geoip_cache_hits")' "$T/stats")" = false ]
        ! grep -q geoip "$T/metrics"
}

# lines N ADDR: N records from ADDR.
lines() {
        local i

        for ((i = 0; i < $1; i++)); do
                rec "\"$2\"" '"2001:db8::5"'
        done
}

@test "mock cluster: SIGHUP swaps in a changed database between records, none lost" {
        # not examples/netflow.conf: its schema has no enrichment members
        mock_start -t flows:1
        proc_start ktp "$KTP" -b "$BROKERS" -t flows "${SOURCES[@]}"
        lines 50 192.0.2.7 | proc_send ktp
        wait_for_count flows 50
        perl "$ROOT/tests/mmdb/mkmmdb.pl" "$T" 2 # new files, renamed in
        proc_signal ktp HUP
        wait_for_line "$(proc_file ktp err)" "enrich.geoip.asn: .*asn.mmdb reopened"
        lines 50 192.0.2.7 | proc_send ktp
        proc_finish ktp
        counters "$(proc_file ktp err)"
        [ "$exit" -eq 0 ]
        [ "$read" -eq 100 ]
        [ "$delivered" -eq 100 ]
        consume_values flows | jq -r '[.sequence, .country_src, .as_name_src, .country_dst] | @tsv' > "$T/got"
        [ "$(wc -l < "$T/got")" -eq 100 ]
        [ "$(head -50 "$T/got" | cut -f2,3,4 | sort -u)" = "$(printf 'FR\tExämple "Quoted" Networks\tNL')" ]
        [ "$(tail -50 "$T/got" | cut -f2,3,4 | sort -u)" = "$(printf 'DE\tRenamed Net\tNL')" ]
        [ "$(cut -f1 "$T/got" | tr '\n' ' ')" = "$(seq 100 | tr '\n' ' ')" ]
}

@test "SIGHUP: a database that does not open is reported, the one open kept" {
        proc_start ktp "$KTP" --stdout "${SOURCES[@]}"
        lines 3 192.0.2.7 | proc_send ktp
        wait_for_line "$(proc_file ktp out)" '"sequence": 3,'
        printf 'not a database' > "$T/x"
        mv "$T/x" "$T/country.mmdb"
        rm "$T/asn.mmdb"
        proc_signal ktp HUP
        wait_for_line "$(proc_file ktp err)" "enrich.geoip.asn: $T/asn.mmdb: .*the one open is kept"
        grep -q "enrich.geoip.country: $T/country.mmdb: not a MaxMind DB file.*the one open is kept" "$(proc_file ktp err)"
        lines 3 192.0.2.7 | proc_send ktp
        proc_finish ktp
        counters "$(proc_file ktp err)"
        [ "$delivered" -eq 6 ]
        [ "$(jq -r '[.country_src, .as_src] | @tsv' "$(proc_file ktp out)" | sort -u)" = "$(printf 'FR\t64496')" ]
}

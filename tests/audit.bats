#!/usr/bin/env bats
# kafkatee-pipe --audit on files: the webrequest experiment of issue 12.
# One producer's run of 100000 events, then the same with 10000 of them
# removed (seeded), with duplicates injected, and with a restart; the
# report said in text and in JSON, and the exit status.

setup() {
        ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
        KTP=${BUILD:-$ROOT/build}/kafkatee-pipe
        T=$BATS_TEST_TMPDIR
}

# gen N RUN [SEED] [HOST]: N webrequest-like events of one run, in order.
gen() {
        python3 - "$@" <<'PY'
import json, random, sys, uuid
n, run = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
host = sys.argv[4] if len(sys.argv) > 4 else "cp3050.esams.wmnet"
out = sys.stdout
for i in range(1, n + 1):
    ev = {"$schema": "/webrequest/1.0.0",
          "meta": {"stream": "webrequest", "domain": host,
                   "id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                   "dt": "2026-11-30T16:44:23Z"},
          "sequence": i, "sequence_run": run,
          "uri_host": "en.wikipedia.org", "uri_path": "/wiki/%d" % i,
          "http_status": "200", "response_size": rnd.randrange(100, 90000)}
    out.write(json.dumps(ev, separators=(",", ":")) + "\n")
PY
}

# lose FILE K SEED: removes K events chosen at random (seeded) but the
# last (the end of a run cannot be judged), shuffles the rest as
# partitions interleave them; the numbers removed into $T/removed, one a
# line, sorted.
lose() {
        python3 - "$@" "$T/removed" <<'PY'
import json, random, sys
path, k, seed, removed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(path).read().splitlines()
rnd = random.Random(seed)
gone = set(rnd.sample(range(1, len(lines)), k))  # 1..N-1: never the last
keep = [l for l in lines if json.loads(l)["sequence"] not in gone]
rnd.shuffle(keep)
open(path, "w").write("".join(l + "\n" for l in keep))
open(removed, "w").write("".join("%d\n" % n for n in sorted(gone)))
PY
}

# ranges FILE: the sorted numbers of FILE as "17-20, 31".
ranges() {
        awk 'NR == 1 { lo = hi = $1; next }
             $1 == hi + 1 { hi = $1; next }
             { out = out sep (lo == hi ? lo : lo "-" hi); sep = ", "
               lo = hi = $1 }
             END { if (NR) print out sep (lo == hi ? lo : lo "-" hi) }' "$1"
}

@test "audit: 100000 events of one run, nothing missing, exit 0" {
        gen 100000 20261130T164423Z-3f9a1c2b >"$T/ev"
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 0 ]
        [[ "$output" == *"producer cp3050.esams.wmnet run 20261130T164423Z-3f9a1c2b"* ]]
        [[ "$output" == *"  events 100000"* ]]
        [[ "$output" == *"  numbers 1-100000 (last seen 100000: events after it cannot be judged)"* ]]
        [[ "$output" == *"  missing 0"$'\n'* ]]
        [[ "$output" == *"total: 1 producers, 1 runs, 100000 events, 0 missing, 0 duplicates, 0 unreadable lines" ]]
}

@test "audit: 10000 removed at random, exactly those missing, exit 3" {
        gen 100000 r1 >"$T/ev"
        lose "$T/ev" 10000 12
        [ "$(wc -l <"$T/ev")" -eq 90000 ]
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 3 ]
        want=$(ranges "$T/removed")
        [[ "$output" == *"  events 90000"* ]]
        [[ "$output" == *"  missing 10000: $want"$'\n'* ]]
        [[ "$output" == *", 10000 missing, "* ]]
        # and as JSON: every gap, expanded, is the list removed
        "$KTP" --audit "$T/ev" --json |
                jq -r '.runs[0].gaps[] | range(.[0]; .[1] + 1)' >"$T/gaps"
        cmp "$T/gaps" "$T/removed"
}

@test "audit: duplicates, same and other meta.id, are not loss" {
        gen 100000 r1 >"$T/ev"
        # 50 redelivered as they were, 30 numbers given to another event;
        # both recent enough for the window of 65536 ids
        sed -n '95001,95050p' "$T/ev" >"$T/same"
        sed -n '70001,70030p' "$T/ev" |
                jq -c '.meta.id = "other-\(.sequence)"' >"$T/other"
        cat "$T/ev" "$T/same" "$T/other" >"$T/all"
        run "$KTP" --audit "$T/all"
        [ "$status" -eq 0 ]
        [[ "$output" == *"  events 100080"* ]]
        [[ "$output" == *"  missing 0"$'\n'* ]]
        [[ "$output" == *"  duplicates 80: 50 same id, 30 other id, 0 not compared"* ]]
}

@test "audit: a duplicate older than the window of ids is not compared" {
        gen 100000 r1 >"$T/ev"
        # number 5 left the window of 65536 ids long before its copy
        sed -n 5p "$T/ev" >>"$T/ev"
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 0 ]
        [[ "$output" == *"  duplicates 1: 0 same id, 0 other id, 1 not compared"* ]]
}

@test "audit: a restart is a new run from 1, no false loss" {
        gen 60000 20261130T164423Z-3f9a1c2b 1 >"$T/ev"
        gen 40000 20261130T171002Z-77aa0e14 2 >>"$T/ev"
        gen 500 20261130T164500Z-00000000 3 cp3051.esams.wmnet >>"$T/ev"
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 0 ]
        [[ "$output" == *"total: 2 producers, 3 runs, 100500 events, 0 missing, "* ]]
        [[ "$output" == *"run 20261130T164423Z-3f9a1c2b"$'\n'"  events 60000"* ]]
        [[ "$output" == *"run 20261130T171002Z-77aa0e14"$'\n'"  events 40000"* ]]
}

@test "audit: a run whose first events are lost misses 1..first-1" {
        gen 1000 r1 | sed 1,99d >"$T/ev"
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 3 ]
        [[ "$output" == *"  missing 99: 1-99"$'\n'* ]]
}

@test "audit: --json parses and agrees with the text" {
        gen 20000 r1 >"$T/ev"
        gen 3000 r2 >>"$T/ev"
        lose "$T/ev" 777 5
        sed -n '10,19p' "$T/ev" >>"$T/ev"
        echo 'not an event' >>"$T/ev"
        run "$KTP" --audit "$T/ev" --json
        [ "$status" -eq 3 ]
        echo "$output" | jq -e . >/dev/null
        json=$output
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 3 ]
        text=$output
        # the text again, from the JSON
        from=$(echo "$json" | jq -r '.runs[] |
                "producer \(.domain) run \(.sequence_run)",
                "  events \(.events)",
                "  numbers \(.first)-\(.last) (last seen \(.last): events after it cannot be judged)",
                "  missing \(.missing)\(if .missing > 0 then ": " + .missing_ranges else "" end)",
                "  duplicates \(.duplicates.total): \(.duplicates.same_id) same id, \(.duplicates.other_id) other id, \(.duplicates.not_compared) not compared"')
        total=$(echo "$json" | jq -r '"total: \(.producers) producers, \(.runs_count) runs, \(.events) events, \(.missing) missing, \(.duplicates) duplicates, \(.unreadable) unreadable lines"')
        [ "$text" = "$from"$'\n'"$total" ]
        [ "$(echo "$json" | jq .missing)" -gt 0 ]
        [ "$(echo "$json" | jq .unreadable)" -eq 1 ]
        [ "$(echo "$json" | jq .duplicates)" -eq 10 ]
}

@test "audit: --json escapes the names it copies" {
        printf '%s\n' '{"meta":{"domain":"a\"b/\u00e9\\n","id":"x"},"sequence":2,"sequence_run":"r\t1"}' >"$T/ev"
        run "$KTP" --audit "$T/ev" --json
        [ "$status" -eq 3 ]
        [ "$(echo "$output" | jq -r '.runs[0].domain')" = 'a"b/é\n' ]
        [ "$(echo "$output" | jq -c '.runs[0] | [.sequence_run, .gaps]')" = '["r\t1",[[1,1]]]' ]
}

@test "audit: the text report shows control characters in names as \\xNN" {
        printf '%s\n' '{"meta":{"domain":"a\nproducer x\\y\u001b[2J","id":"x"},"sequence":1,"sequence_run":"r\t1"}' >"$T/ev"
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 'producer a\x0aproducer x\\y\x1b[2J run r\x091' ]
        [ "${lines[1]}" = "  events 1" ]
}

@test "audit: unreadable lines are counted, not fatal; none readable: exit 1" {
        gen 10 r1 >"$T/ev"
        { echo 'garbage'; echo '{"meta":{"domain":"h"},"sequence":1}'
          echo '{"meta":{"domain":"h","id":"x"},"sequence":0,"sequence_run":"r"}'
          echo '{"meta":{"domain":"h","id":"x"},"sequence":"3","sequence_run":"r"}'
          echo; } >>"$T/ev"
        run "$KTP" --audit "$T/ev"
        [ "$status" -eq 0 ]
        [[ "$output" == *", 0 missing, 0 duplicates, 4 unreadable lines" ]]
        printf 'garbage\n{}\n' | {
                run "$KTP" --audit -
                [ "$status" -eq 1 ]
                [[ "$output" == *"no line is an event"* ]]
        }
        run "$KTP" --audit - </dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == "total: 0 producers, 0 runs, 0 events, 0 missing, 0 duplicates, 0 unreadable lines" ]]
}

@test "audit: usage and read errors exit 1" {
        run "$KTP" --audit
        [ "$status" -eq 1 ]
        run "$KTP" --audit "$T/no-such-file"
        [ "$status" -eq 1 ]
        [[ "$output" == *"no-such-file: No such file or directory"* ]]
        run "$KTP" --audit "$T"
        [ "$status" -eq 1 ]
        run "$KTP" --audit - -b localhost:9092 </dev/null
        [ "$status" -eq 1 ]
        run "$KTP" --audit - extra </dev/null
        [ "$status" -eq 1 ]
        # a report that cannot be written: 2, as any other fatal error
        rc=0
        echo '{"meta":{"domain":"h","id":"x"},"sequence":1,"sequence_run":"r"}' |
                "$KTP" --audit - >/dev/full 2>"$T/err" || rc=$?
        [ "$rc" -eq 2 ]
        grep -q 'standard output' "$T/err"
        run "$KTP" --audit - -h
        [ "$status" -eq 0 ]
        [[ "$output" == Usage:*--audit* ]]
}

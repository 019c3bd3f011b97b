#!/usr/bin/env bats
# The man page and examples/netflow.conf are the contract: every key of
# config.c's tables has an entry in the man page (.It Cm KEY) and a line
# in netflow.conf (KEY = ..., commented out or not), and every key the
# man page's CONFIGURATION section lists is one the program takes.

load helpers

setup() {
        MAN=$ROOT/man/kafkatee-pipe.1
        CONF=$ROOT/examples/netflow.conf
}

# The keys of config.c's table (STR("name", ...), NUM(...), ...).
table_keys() {
        awk '/^static const struct key keys\[\] = \{/ { on = 1; next }
             on && /^\};/ { exit }
             on { if (match($0, /^ *[A-Z_]+\("[^"]+"/)) {
                        s = substr($0, RSTART, RLENGTH)
                        sub(/^[^"]*"/, "", s); sub(/"$/, "", s); print s } }' \
                "$ROOT/config.c"
}

# The prefixes of config.c's prefixed table ({ "kafka.", ... }).
table_prefixes() {
        awk '/^} prefixed\[\] = \{/ { on = 1; next }
             on && /^\};/ { exit }
             on && match($0, /\{ "[^"]+"/) {
                        s = substr($0, RSTART + 3, RLENGTH - 4); print s }' \
                "$ROOT/config.c"
}

@test "keys: every key of the table is in the man page and netflow.conf" {
        n=0
        for k in $(table_keys); do
                n=$((n + 1))
                echo "$k"
                grep -q "^\.It Cm $k\( \|$\)" "$MAN"
                grep -q "^#\{0,1\}$k = " "$CONF"
        done
        [ "$n" -ge 60 ]
}

@test "keys: every prefix of the table is in the man page and netflow.conf" {
        n=0
        for p in $(table_prefixes); do
                n=$((n + 1))
                echo "$p"
                grep -q "^\.It Cm $p\\\\& Ns Ar " "$MAN"
                grep -q "^#\{0,1\}${p}[A-Za-z0-9_.-]* = " "$CONF"
        done
        [ "$n" -ge 6 ]
}

@test "keys: every key the man page lists is taken by the program" {
        # between .Sh CONFIGURATION and the next .Sh: the keys of .It Cm
        keys=$(awk '/^\.Sh CONFIGURATION/ { on = 1; next }
                    on && /^\.Sh / { exit }
                    on && /^\.It Cm [a-z]/ && !/\\&/ { print $3 }' "$MAN" |
                sort -u)
        [ "$(echo "$keys" | wc -l)" -ge 60 ]
        for k in $keys; do
                echo "$k"
                run "$KTP" -o "$k=" -X dump
                [[ "$output" != *"unknown key"* ]]
        done
}

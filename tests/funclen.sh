#!/bin/sh
# funclen.sh: no function body over 60 lines (STYLE.md: a function fits
# on a screen) in the C files at the top level, tests/, tests/fuzz/ and
# bench/.  Prints "file:line: signature: N lines" for each longer one and
# exits 1; prints nothing and exits 0 when there is none.
cd "$(dirname "$0")/.." || exit 1

set --
for f in *.c *.h tests/*.c tests/fuzz/*.c bench/*.c; do
        [ -f "$f" ] && set -- "$@" "$f" # a glob that matched nothing
done

# The project's layout, not a C parser: a body starts with "{" at column
# 0 after its signature and ends with "}" at column 0.  The signature
# shown is the last line with "(" before the "{".
awk -v max=60 '
FNR == 1 { start = 0; prev = "" }
/^\{/ { start = FNR; name = prev; next }
/^\}/ && start {
        n = FNR - start - 1
        if (n > max) {
                printf "%s:%d: %s: %d lines\n", FILENAME, start, name, n
                over = 1
        }
        start = 0
        next
}
{ if (!start && $0 ~ /\(/) prev = $0 }
END { exit over }
' "$@"

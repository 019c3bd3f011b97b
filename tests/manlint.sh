#!/bin/sh
# tests/manlint.sh - mandoc -Tlint -W all on the man page: every message of
# every level, style included, is a failure.
#
# usage: tests/manlint.sh [PAGE]          (default man/kafkatee-pipe.1)
#
# One message cannot be fixed in the page: "referenced manual not found:
# Xr NAME SECTION".  mandoc looks each .Xr up among the manuals installed on
# this machine (/usr/share/man), so the answer depends on which packages are
# installed (logrotate(8), geoipupdate(1), libssl-doc's RAND_priv_bytes(3)
# are not on a build machine), not on the page.  Those lines are printed,
# marked "not counted", and do not fail; neither does mandoc's note that
# its own database is outdated ("outdated mandoc.db lacks ...", same cause).
# Every other line fails.  mandoc's exit status is not used: with -W all a
# style message gives status 1 whether it counts or not.
#
# exit codes: 0 clean; 1 a message that counts; 77 no mandoc.
set -eu

page=${1:-man/kafkatee-pipe.1}

if ! command -v mandoc >/dev/null 2>&1; then
        echo "manlint.sh: SKIP: no mandoc (apt-get install mandoc)" >&2
        exit 77
fi

out=$(mandoc -Tlint -W all "$page" 2>&1 || true)
# The machine's manuals, not the page: shown, not counted.
printf '%s\n' "$out" | grep -e ': referenced manual not found: Xr ' |
        sed 's/^/not counted (depends on the installed manuals): /' || true
stale=$(printf '%s\n' "$out" | grep -c -e ': outdated mandoc.db lacks ' ||
        true)
if [ "$stale" -gt 0 ]; then
        echo "not counted: $stale notes that this machine's mandoc.db is" \
                "outdated (makewhatis)"
fi
bad=$(printf '%s\n' "$out" |
        grep -v -e ': referenced manual not found: Xr ' \
                -e ': outdated mandoc.db lacks ' -e '^$' || true)
if [ -n "$bad" ]; then
        printf '%s\n' "$bad"
        exit 1
fi

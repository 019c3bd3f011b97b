#!/usr/bin/env bash
# tests/avro/avro.sh - Apache Avro's own Java library (and avro-tools), fetched
# from Maven Central into the build cache, to decode what kafkatee-pipe's
# `encoding = pnda-avro` produces independently of the avro-c that encodes it.
#
# usage: avro.sh fetch                     resolve org.apache.avro:avro into ${BUILD}/avro/lib,
#                                          compile AvroFrag.java into ${BUILD}/avro/classes,
#                                          and try to fetch ${BUILD}/avro/avro-tools.jar
#        avro.sh decode-java SCHEMA [--confluent ID] < frames
#                                          decode a stream of frames (4-byte big-endian length +
#                                          message, as `kcat -C -f '%R%s'` prints) in one JVM:
#                                          one compact JSON line per message (see README)
#        avro.sh fragtojson SCHEMA FILE    PNDA's own check: avro-tools fragtojson on FILE
#                                          (raw datums back to back, no frames)
#
# exit codes: 0 ok; 77 skip (java/javac/mvn missing, or the jars cannot be
# fetched, e.g. Maven Central unreachable) with the reason on stderr in a line
# starting "avro.sh: SKIP: "; 1 any other failure (for decode-java: a message
# that does not decode); 2 usage.
#
# environment:
#   BUILD               build dir (default <repo>/build; a relative one is taken
#                       from the repo root); everything lives in $BUILD/avro
#   AVRO_M2             maven local repository (default $BUILD/avro/m2)
#   AVRO_FETCH_TIMEOUT  seconds allowed for each one-off mvn fetch (default 300)
#   AVRO_VERSION        Avro version to fetch (default: the one pinned in pom.xml)
#   AVRO_JAVA_OPTS      JVM options (default "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx512m")
#
# fragtojson (avro-tools 1.12) prints each datum in FILE as pretty JSON, reading
# datums until the end of the file (so it does not catch a message with bytes
# left over: decode-java does); unions as {"type": value}, bytes as one char per
# byte (ISO-8859-1, so UTF-8 "é" shows as "Ã©"); and a Hadoop NativeCodeLoader
# WARN line on stderr.
#
# avro-tools (org.apache.avro:avro-tools, a 70 MB shaded jar) is served by
# Maven Central for 1.12.2. If its fetch fails, decode-java still works: fetch
# says so once, leaves $BUILD/avro/avro-tools.failed (delete it to retry), and
# fragtojson skips (77).
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
ADIR=$BUILD/avro
LIB=$ADIR/lib
CLASSES=$ADIR/classes
TOOLS=$ADIR/avro-tools.jar
M2=${AVRO_M2:-$ADIR/m2}
case $M2 in /*) ;; *) M2=$REPO/$M2 ;; esac
read -r -a JAVA_OPTS <<<"${AVRO_JAVA_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx512m}"

say() { echo "avro.sh: $*" >&2; }
die() { say "$*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

# ---------------------------------------------------------------- fetch

version() {
    [ -z "${AVRO_VERSION:-}" ] || { echo "$AVRO_VERSION"; return; }
    sed -n 's:.*<avro\.version>\(.*\)</avro\.version>.*:\1:p' "$HERE/pom.xml"
}

# what lib/, classes/ and the tools jar must have been made from
lib_stamp() { echo "$(version) $(cksum <"$HERE/pom.xml" | cut -d' ' -f1)"; }
classes_stamp() { echo "$(lib_stamp) $(cksum <"$HERE/AvroFrag.java" | cut -d' ' -f1)"; }

lib_ok() { [ -f "$LIB/.stamp" ] && [ "$(cat "$LIB/.stamp")" = "$(lib_stamp)" ]; }
classes_ok() {
    [ -f "$CLASSES/.stamp" ] && [ "$(cat "$CLASSES/.stamp")" = "$(classes_stamp)" ] &&
        [ -f "$CLASSES/AvroFrag.class" ]
}
# tried for this version: fetched, or failed (not retried until the marker goes)
tools_tried() {
    { [ -f "$TOOLS" ] && [ "$(cat "$TOOLS.stamp" 2>/dev/null)" = "$(version)" ]; } ||
        [ "$(cat "$ADIR/avro-tools.failed" 2>/dev/null)" = "$(version)" ]
}
fetch_ok() { lib_ok && classes_ok && tools_tried; }

mvn_q() { # LOG ARGS...: quiet, batch, our local repository, time-limited
    local log=$1
    shift
    timeout "${AVRO_FETCH_TIMEOUT:-300}" mvn -q -B -Dstyle.color=never \
        -f "$HERE/pom.xml" -Dmaven.repo.local="$M2" "$@" </dev/null >"$log" 2>&1
}

mvn_tail() { # LOG: the end of a failed mvn run, on stderr
    tail -n 15 "$1" | awk '{ gsub(/\033\[[0-9;]*m/, "") } !/^(\[ERROR\] *)?$/ { print "  mvn: " $0 }' >&2
}

fetch_lib() {
    local tmp log=$ADIR/fetch.log
    tmp=$(mktemp -d "$ADIR/lib.new.XXXXXX")
    chmod 755 "$tmp"
    if ! mvn_q "$log" ${AVRO_VERSION:+-Davro.version="$AVRO_VERSION"} \
            org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
            -DoutputDirectory="$tmp"; then
        mvn_tail "$log"
        rm -rf "$tmp"
        skip "could not fetch the Avro $(version) jars with mvn (Maven Central unreachable?); log: $log"
    fi
    if ! ls "$tmp/avro-$(version).jar" >/dev/null 2>&1; then
        rm -rf "$tmp"
        die "mvn succeeded but no avro-$(version).jar in the result; log: $log"
    fi
    lib_stamp >"$tmp/.stamp"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
}

compile() {
    local tmp log=$ADIR/javac.log
    tmp=$(mktemp -d "$ADIR/classes.new.XXXXXX")
    chmod 755 "$tmp"
    if ! javac -nowarn -encoding UTF-8 -d "$tmp" -cp "$LIB/*" "$HERE/AvroFrag.java" >"$log" 2>&1; then
        tail -n 15 "$log" >&2
        rm -rf "$tmp"
        die "could not compile AvroFrag.java against avro $(version); log: $log"
    fi
    classes_stamp >"$tmp/.stamp"
    rm -rf "$CLASSES"
    mv "$tmp" "$CLASSES"
}

fetch_tools() {
    local tmp log=$ADIR/fetch-tools.log
    tmp=$(mktemp -d "$ADIR/tools.new.XXXXXX")
    chmod 755 "$tmp"
    rm -f "$ADIR/avro-tools.failed"
    if mvn_q "$log" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
            -Dartifact="org.apache.avro:avro-tools:$(version)" -DoutputDirectory="$tmp" &&
            [ -f "$tmp/avro-tools-$(version).jar" ]; then
        mv "$tmp/avro-tools-$(version).jar" "$TOOLS"
        version >"$TOOLS.stamp"
    else
        # not fatal: decode-java does not need it; fragtojson will skip
        say "note: could not fetch avro-tools $(version) (fragtojson will skip); log: $log"
        version >"$ADIR/avro-tools.failed"
    fi
    rm -rf "$tmp"
}

cmd_fetch() {
    command -v java >/dev/null 2>&1 || skip "java not found (need a Java 11+ runtime for Apache Avro)"
    fetch_ok && return 0
    command -v mvn >/dev/null 2>&1 || skip "mvn not found (needed once to fetch the Avro jars from Maven Central)"
    command -v javac >/dev/null 2>&1 || skip "javac not found (need a JDK, not just a JRE, to build AvroFrag)"
    mkdir -p "$ADIR"
    # one fetch at a time (two test files may need Avro at once)
    exec 9>"$ADIR/.fetch.lock"
    flock 9
    lib_ok || fetch_lib
    classes_ok || compile
    tools_tried || fetch_tools
    exec 9>&-
}

# ---------------------------------------------------------------- commands

usage() {
    sed -n '6,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch) [ $# = 0 ] || usage; cmd_fetch ;;
decode-java)
    [ $# = 1 ] || { [ $# = 3 ] && [ "$2" = --confluent ]; } || usage
    cmd_fetch
    exec java "${JAVA_OPTS[@]}" -cp "$LIB/*:$CLASSES" AvroFrag "$@"
    ;;
fragtojson)
    [ $# = 2 ] || usage
    cmd_fetch
    [ -f "$TOOLS" ] || skip "no $TOOLS (its fetch failed; see $ADIR/fetch-tools.log, delete $ADIR/avro-tools.failed to retry)"
    exec java "${JAVA_OPTS[@]}" -jar "$TOOLS" fragtojson --schema-file "$1" "$2"
    ;;
*) usage ;;
esac

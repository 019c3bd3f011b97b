# tests/avro/helpers.bash: decoding pnda-avro messages in bats tests,
# with both of tests/avro's decoders (load avro/helpers).

# avro_fetch: Apache Avro's jars from Maven Central, once for a bats file
# (setup_file); without them avro_decode uses Python's decoder alone.
avro_fetch() {
        BUILD=$BUILD "$ROOT/tests/avro/avro.sh" fetch \
                >"$BATS_FILE_TMPDIR/avro-fetch.out" 2>&1 || true
}

# avro_decode SCHEMA [--confluent ID] < frames: both decoders, which must
# agree; prints the Python one's lines.  Without Java (no Maven Central),
# only Python's, and a note on fd 3.  Scratch files in $T.
avro_decode() {
        cat > "$T/frames.in"
        /usr/bin/python3 "$ROOT/tests/avro/decode.py" "$@" \
                < "$T/frames.in" > "$T/py" || return 1
        if BUILD=$BUILD "$ROOT/tests/avro/avro.sh" decode-java "$@" \
                < "$T/frames.in" > "$T/java" 2> "$T/java.err"; then
                cmp "$T/py" "$T/java" || return 1
        elif [ $? -eq 77 ]; then
                echo "# no Java decoder: $(cat "$T/java.err")" >&3
        else
                cat "$T/java.err" >&2
                return 1
        fi
        cat "$T/py"
}

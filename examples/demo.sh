#!/bin/sh
# make demo: start an embedded Kafka (librdkafka's mock cluster), pipe the
# shipped pmacctd capture through kafkatee-pipe, consume the events back.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
# KTP=/usr/bin/kafkatee-pipe: the installed one (tests/deb.bats).
KTP=${KTP:-$BUILD/kafkatee-pipe}
TOPIC=eqiad.netflow
SAMPLE=examples/samples/pmacctd-lo-json.jsonl

dir=$(mktemp -d)
mock_pid=
cleanup() {
        exec 3>&- 2>/dev/null || true
        [ -n "$mock_pid" ] && wait "$mock_pid" 2>/dev/null || true
        rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# The mock cluster runs until its control FIFO closes.
mkfifo "$dir/ctl"
"$BUILD/mockcluster" -t "$TOPIC:1" < "$dir/ctl" > "$dir/mock.out" &
mock_pid=$!
exec 3> "$dir/ctl"
i=0
until [ -s "$dir/mock.out" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "demo: mock cluster did not start" >&2; exit 1; }
        sleep 0.1
done
BROKERS=$(head -n 1 "$dir/mock.out")

echo "== mock Kafka cluster on $BROKERS"
echo "== $SAMPLE ($(wc -l < "$SAMPLE") lines) | kafkatee-pipe -c examples/netflow.conf -b $BROKERS"
echo "   (each event validated against examples/schemas/netflow/flow/1.1.0.json)"
# The sample was captured on a host whose local time was UTC.
"$KTP" -c examples/netflow.conf -b "$BROKERS" \
        -o dt.timezone=UTC -o domain=demo.example < "$SAMPLE"

echo "== consumed back from $TOPIC, the first event:"
kcat -C -b "$BROKERS" -t "$TOPIC" -e -q -f '%s\n' > "$dir/events"
head -n 1 "$dir/events" | jq .
echo "== all of them: dt  src -> dst  proto  bytes"
jq -r '"\(.dt)  \(.ip_src):\(.port_src) -> \(.ip_dst):\(.port_dst)  \(.ip_proto)  \(.bytes)"' \
        "$dir/events" | head -n 10
echo "   ... $(wc -l < "$dir/events") events in $TOPIC (pmacct's purge markers are not forwarded)"

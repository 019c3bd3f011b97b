# The default netflow transform written in jq: an independent oracle for
# the tests, and what a user would script instead (bench/).  The collector
# is taken to be on UTC.  Call with -n --arg domain NAME on the records of
# one run: the events are numbered 1, 2, ... ("sequence"), the run's name
# is "RUN" (tests/mask.jq masks the pipe's so, once it has checked its
# form).  Records of several runs: one call per run.

# "2026-11-23 08:33:20.731040" | "1795422833.769141" | number -> ms, or
# null for pmacct's zero times.  Strings are cut, never rounded.
def to_ms:
  if type == "number" then tostring else . end
  | if test("^[0-9]+(\\.[0-9]+)?$") then
      (split(".") as $p
       | ($p[0] | tonumber) * 1000
         + ((($p[1] // "") + "000")[0:3] | tonumber))
      | if . == 0 then null else . end
    elif startswith("0000-00-00") then null
    else
      capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})[ T](?<t>[0-9:]{8})(\\.(?<f>[0-9]+))?$")
      | (.d + "T" + .t + "Z" | fromdateiso8601) * 1000
        + (((.f // "") + "000")[0:3] | tonumber)
    end;

def iso:
  (. / 1000 | floor | todate | sub("Z$"; "")) + "."
  + ("00" + (. % 1000 | tostring))[-3:] + "Z";

def time_fields:
  ["timestamp_start", "timestamp_end", "timestamp_arrival",
   "stamp_inserted", "stamp_updated"];

def event($seq):
  . as $r
  | ([$r.timestamp_start, $r.timestamp_arrival, $r.stamp_inserted]
     | map(select(. != null) | to_ms) | map(select(. != null)) | first) as $dt
  | {"$schema": "/netflow/flow/1.1.0",
     meta: {stream: "netflow", id: "ID", dt: "DT", domain: $domain},
     dt: ($dt | iso), sequence: $seq, sequence_run: "RUN"}
    + ($r | del(.event_type) | to_entries
       | map(if .key == "tcp_flags" and (.value | type) == "string" then
               .value |= tonumber
             elif .key as $k | time_fields | index($k) then
               (.value |= to_ms) | select(.value != null) | (.value |= iso)
             else . end)
       | from_entries);

if . != null then error("envelope.jq: call with -n (events are numbered)")
else
  foreach (inputs
           | select(.event_type != "purge_init"
                    and .event_type != "purge_close")) as $r
    (0; . + 1; . as $n | $r | event($n))
end

#!/bin/sh
# mkcorpus.sh [SAMPLES]: (re)writes the committed seeds in tests/fuzz/corpus
# from the pmacct samples (examples/samples by default) and the traps
# below.  The seeds too big to commit are made by run.sh.
root=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
samples=${1:-$root/examples/samples}
case $samples in /*) ;; *) samples=$PWD/$samples ;; esac
cd "$root/tests/fuzz" || exit 1
c=corpus
mkdir -p "$c" || exit 1
rm -f "$c"/*

# seed NAME FORMAT [ARGS...]: one seed, printf-formatted.
seed() {
	name=$1
	shift
	# shellcheck disable=SC2059
	printf "$@" >"$c/$name"
}

# repeat N STRING: STRING N times, no newline.
repeat() {
	awk -v n="$1" -v s="$2" 'BEGIN { while (n-- > 0) printf "%s", s }'
}

# Every sample line on its own, and in runs of 8 lines.
for f in "$samples"/*.jsonl; do
	b=$(basename "$f" .jsonl)
	awk -v c="$c" -v b="$b" '{ f = sprintf("%s/%s-%03d.json", c, b, NR);
	    print > f; close(f)
	    g = sprintf("%s/%s-%03d-8.jsonl", c, b, int((NR - 1) / 8) * 8 + 1);
	    print >> g; close(g) }' "$f"
done

R='{"event_type": "purge", "ip_src": "10.0.0.1", "tcp_flags": "2", '
T='"timestamp_start": "2026-11-23 09:33:20.731040", "bytes": 60}'

# Bytes that are not UTF-8, or not allowed, in strings and keys.
seed utf8-invalid.json '%s"label": "\377\376", %s' "$R" "$T"
seed utf8-overlong.json '%s"label": "\300\257\340\200\257", %s' "$R" "$T"
seed utf8-surrogate.json '%s"label": "\355\240\200", %s' "$R" "$T"
seed utf8-truncated.json '%s"label": "\342\202", %s' "$R" "$T"
seed utf8-above-max.json '%s"label": "\364\220\200\200", %s' "$R" "$T"
seed utf8-in-key.json '{"\377ip": 1, "\360\237\230\200": "\342\202\254"}'
seed utf8-valid.json '%s"label": "\303\251\342\202\254\360\237\230\200", %s' \
    "$R" "$T"
seed nul-in-string.json '%s"label": "a\000b", %s' "$R" "$T"
seed nul-lines.jsonl '%s%s\n\000\n%s%s\n' "$R" "$T" "$R" "$T"
seed control-in-string.json '%s"label": "a\001\tb", %s' "$R" "$T"
seed escapes-unicode.json '{"a": "\\u0000\\ud800\\udc00\\uDFFF\\/\\b\\f"}'

# Nesting: at, around and far past KT_MAX_DEPTH (64).
seed nesting-1000.json '{"a": %s1%s}' "$(repeat 1000 '[')" "$(repeat 1000 ']')"
seed nesting-1000-objects.json '%s1%s' "$(repeat 1000 '{"a": ')" \
    "$(repeat 1000 '}')"
seed nesting-64.json '{"a": %s%s}' "$(repeat 63 '[')" "$(repeat 63 ']')"
seed nesting-65.json '{"a": %s1%s}' "$(repeat 64 '[')" "$(repeat 64 ']')"
seed nesting-brackets-in-strings.json '{"a": "%s", "b": [1]}' \
    "$(repeat 200 '[{')"

# Numbers: huge, tiny, and not numbers.
seed number-400-digits.json '{"bytes": %s, "packets": -%s}' \
    "$(repeat 400 9)" "$(repeat 400 1)"
seed number-exponents.json '{"a": 1e400, "b": -0.0e-400, "c": 0, "d": -0}'
seed number-bad.jsonl '{"a": 01}\n{"a": 1.}\n{"a": .5}\n{"a": NaN}\n{"a": -}\n'
seed integer-field.jsonl '{"tcp_flags": "18446744073709551615"}\n{"tcp_flags": "18446744073709551616"}\n{"tcp_flags": "-9223372036854775808"}\n{"tcp_flags": "-9223372036854775809"}\n{"tcp_flags": "%s"}\n{"tcp_flags": "1e3"}\n{"tcp_flags": 1.5}\n{"tcp_flags": true}\n' \
    "$(repeat 400 9)"

# Keys: duplicates, plain and through escapes, and envelope names.
seed dup-plain.json '{"a": 1, "b": 2, "a": 3}'
seed dup-escaped.json '{"a": 1, "\\u0061": 2}'
seed dup-many.json '{%s"k0": 0}' "$(awk 'BEGIN { for (i = 0; i < 100;
    i++) printf "\"k%d\": %d, ", i, i }')"
seed dup-rename.json '{"ip_src": "10.0.0.1", "src_ip": "10.0.0.2"}'
seed dup-constant.json '{"ip_src": "10.0.0.1", "site": "codfw"}'
seed envelope-plain.jsonl '{"$schema": "x"}\n{"meta": {}}\n{"dt": "x"}\n'
seed envelope-escaped.jsonl '{"\\u0024schema": "x"}\n{"m\\u0065ta": {}}\n{"\\u0064t": "x"}\n'
seed keys-escaped.json '{"a\\"b": 1, "\\\\": 2, "\\/": 3, "ip\\u005fsrc": "x", "": 4, "\\t": 5}'
seed event-type-escaped.json '{"event\\u005ftype": "purge_init"}'

# Framing: empty lines, CR, CRLF, no newline at the end.
seed lines-empty.jsonl '\n\n%s%s\n\n' "$R" "$T"
seed lines-crlf.jsonl '%s%s\r\n%s%s\r\n\r\n' "$R" "$T" "$R" "$T"
seed lines-cr-only.jsonl '\r\r\n\r%s%s\r' "$R" "$T"
seed lines-no-final-newline.jsonl '%s%s\n%s%s' "$R" "$T" "$R" "$T"
seed lines-blank.jsonl ' \t \n\t\r\n'
seed lines-glued.jsonl '%s"bytes": 1}{"event_type": "purge"}\n%s\n' "$R" "$R"
seed line-4097.jsonl '{"a": "%s"}\n' "$(repeat 4088 x)"
seed line-4096-crlf.jsonl '{"a": "%s"}\r\n{"a": 1}' "$(repeat 4087 x)"

# pmacct markers.
seed marker-init.json '{"event_type": "purge_init", "writer_id": "out/3245"}'
seed marker-close.json '{"event_type": "purge_close", "writer_id": "out/3245", "purged_entries": 60, "total_entries": 60, "duration": 0}'
seed marker-close-odd.jsonl '{"event_type": "purge_close", "purged_entries": "60"}\n{"event_type": "purge_close", "purged_entries": -1}\n{"event_type": "purge_close", "purged_entries": %s}\n{"event_type": "purge_close", "purged_entries": 1.5}\n{"event_type": "purge_close"}\n' \
    "$(repeat 40 9)"
seed marker-invalid.json '{"event_type": "purge_init", "a": }'
seed marker-dup.json '{"event_type": "purge_init", "event_type": "purge_close"}'

# Times: zero, edges of the range, leap days, EU summer time switches.
seed time-zero.json '{"timestamp_start": "0000-00-00 00:00:00.000000", "timestamp_arrival": "0.000000", "stamp_inserted": "0000-00-00 00:00:00", "timestamp_end": "0", "bytes": 1}'
seed time-epoch.json '{"timestamp_start": "1795422833.769141", "timestamp_end": 1795422833.5, "stamp_updated": "999999999999.999"}'
seed time-zones.jsonl '{"timestamp_start": "2026-11-23 09:33:20Z"}\n{"timestamp_start": "2026-11-23 09:33:20.1+01:00"}\n{"timestamp_start": "2026-11-23T09:33:20-05:30"}\n{"timestamp_start": "2026-11-23 09:33:20+24:00"}\n'
seed time-dst.jsonl '{"timestamp_start": "2026-03-29 01:59:59"}\n{"timestamp_start": "2026-03-29 02:30:00"}\n{"timestamp_start": "2026-03-29 03:00:00"}\n{"timestamp_start": "2026-10-25 02:30:00"}\n{"timestamp_start": "2026-10-25 03:00:00.999"}\n'
seed time-edges.jsonl '{"timestamp_start": "1970-01-01 00:00:00"}\n{"timestamp_start": "1970-01-01 00:59:59"}\n{"timestamp_start": "9999-12-31 23:59:59.999999999"}\n{"timestamp_start": "2028-02-29 12:00:00"}\n{"timestamp_start": "2026-02-29 12:00:00"}\n{"timestamp_start": "2026-13-01 00:00:00"}\n{"timestamp_start": "2026-11-23 24:00:00"}\n{"timestamp_start": "2026-11-23 09:33:20.1234567890"}\n'
seed time-not.jsonl '{"timestamp_start": null}\n{"timestamp_start": true}\n{"timestamp_start": {}}\n{"timestamp_start": "2026\\u002d11-23 09:33:20"}\n{"timestamp_end": "yesterday"}\n'

# Not objects, and not JSON at all.
seed not-object.jsonl '[]\n"x"\n1\nnull\ntrue\n'
seed not-json.jsonl 'pmacctd: shutting down\ntru\re\n\033[2J\n{\n}\n{"a" 1}\n{"a": 1,}\n'

# fuzz_netcidr: addresses (inet_pton's edge cases) and list files.
c=corpus-netcidr
mkdir -p "$c" || exit 1
rm -f "$c"/*
seed addr-v4.txt '192.0.2.1'
seed addr-v4-edges.txt '0.0.0.0\n255.255.255.255\n256.0.0.1\n01.2.3.4\n1.2.3\n1.2.3.4.5\n1..2.3\n'
seed addr-v6.txt '2001:db8::1'
seed addr-v6-forms.txt '::\n::1\n1::\n1:2:3:4:5:6:7:8\n1:2:3:4:5:6:7::\n::ffff:192.0.2.1\n::192.0.2.1\n1:2:3:4:5:6:1.2.3.4\nfe80::1%%eth0\n'
seed addr-v6-bad.txt ':::\n1:::2\n1::2::3\n12345::\n1:2:3:4:5:6:7:8:9\n::ffff:1.2.3\n::1.2.3.4.5\ng::1\n'
seed addr-nul.txt '10.0.0.1\000\000\000\000\000\000\000\000\n::1\000x\n'
seed list.txt '10.0.0.0/8 ten\n10.1.0.0/16 ten-one # a comment\n2001:db8::/32 doc6\r\n0.0.0.0/0 all\n::/0 all6\n\n# only a comment\n'
seed list-host.txt '10.0.0.0/32 one\n10.0.0.1/32 two\n::1/128 lo6\n::ffff:0:0/96 mapped\n'
seed list-bad.txt '10.0.0.0/8 a\n10.0.0.0/8 b\n'
seed list-words.txt '\t10.0.0.0/8\t a \t\n192.0.2.0/24 a b\n'
seed list-labels.txt '10.0.0.0/8 %s\n10.0.0.0/9 a"b\n' "$(repeat 65 a)"

# fuzz_anonymize: the samples' lines, and lines with the fields its
# rules name (src_ip truncated, ip_dst, peer_ip_src and bytes hashed,
# mac_src and label dropped) in the forms the stages read.
c=corpus-anonymize
mkdir -p "$c" || exit 1
rm -f "$c"/*
for f in "$samples"/*.jsonl; do
	b=$(basename "$f" .jsonl)
	head -n 9 "$f" >"$c/$b-9.jsonl"
done
A='"timestamp_start": "2026-11-23 09:33:20.731040", "tcp_flags": "2"'
seed addrs-v4.jsonl '{"ip_src": "10.1.2.3", "ip_dst": "192.0.2.7", "peer_ip_src": "10.0.0.1", "bytes": 60, "mac_src": "00:11:22:33:44:55", %s}\n{"ip_src": "10.1.2.3", "ip_dst": "192.0.2.7", "bytes": 61, %s}\n' "$A" "$A"
seed addrs-v6.jsonl '{"ip_src": "2001:db8::5", "ip_dst": "2001:db8:ffff::1", "peer_ip_src": "::ffff:10.0.0.1", "bytes": 1, %s}\n{"ip_src": "::ffff:192.0.2.200", "ip_dst": "::1", %s}\n' "$A" "$A"
seed addrs-escaped.jsonl '{"ip_src": "10.0.0.\\u0031", "ip_dst": "\\u0032001:db8::1", "label": "x", %s}\n' "$A"
seed addrs-null.jsonl '{"ip_src": null, "ip_dst": null, "peer_ip_src": null, "bytes": null, "mac_src": null, %s}\n' "$A"
seed addrs-not.jsonl '{"ip_src": "10.0.0.256", %s}\n{"ip_src": 10, %s}\n{"ip_dst": true, %s}\n{"ip_dst": "host.example", "bytes": 1.5e3, %s}\n{"ip_dst": {"a": 1}, %s}\n' "$A" "$A" "$A" "$A" "$A"
seed enriched-already.jsonl '{"ip_src": "10.1.2.3", "country_src": "XX", "as_src": 1, "as_name_src": "n", "net_cidr_src": "y", "ip_version": 9, "ip_dst": "192.0.2.3", %s}\n' "$A"
seed names-escaped.jsonl '{"ip\\u005fsrc": "10.1.2.3", "m\\u0061c_src": "x", %s}\n{"ip_src": "10.1.2.3", "\\u006cabel": "x", %s}\n' "$A" "$A"
seed anon-salt-already.jsonl '{"ip_src": "10.1.2.3", "anon_salt": "mine", %s}\n' "$A"
seed many-lines.jsonl '%s' "$(awk 'BEGIN { for (i = 0; i < 70; i++)
    printf "{\"ip_src\": \"10.%d.0.%d\", \"ip_dst\": \"192.0.2.%d\", \"bytes\": %d}\n", i, i, i % 3, i }')"

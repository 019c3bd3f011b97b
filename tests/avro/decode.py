#!/usr/bin/python3
"""decode.py: decode a stream of Avro binary fragments with python3-avro.

usage: decode.py SCHEMA.avsc [--confluent ID] < frames

stdin is a stream of frames, each a 4-byte big-endian length and that many
bytes (what `kcat -C -f '%R%s'` prints); each frame is one message and must be
exactly one datum of the record SCHEMA (no container header), optionally after
the Confluent framing 0x00 + 4-byte big-endian schema id (--confluent ID).
Prints one compact JSON object per message, fields in schema order, in the
exact text tests/avro/AvroFrag.java prints (see tests/avro/README for the
rules). Exit 0 when every message decoded, 1 at the first error (stderr names
the message, 1-based), 2 on usage.

Debian's python3-avro lives under /usr/bin/python3, hence the shebang.
"""

import io
import json
import struct
import sys

import avro.io
import avro.schema

PRIMITIVES = ("long", "int", "string", "bytes", "boolean", "double")
RANGE = {"int": (-(1 << 31), (1 << 31) - 1), "long": (-(1 << 63), (1 << 63) - 1)}


class Fail(Exception):
    pass


def field_type(field):
    """The field's primitive type name (of the non-null branch of a union)."""
    s = field.type
    if isinstance(s, avro.schema.UnionSchema):
        names = [b.type for b in s.schemas]
        if len(names) != 2 or "null" not in names:
            raise Fail(f"field {field.name}: only [\"null\", T] unions are supported")
        s = s.schemas[1 - names.index("null")]
    # a logicalType would make python3-avro return datetime/Decimal objects
    # where Java's GenericDatumReader returns the plain value
    if s.type not in PRIMITIVES or "logicalType" in s.props:
        raise Fail(f"field {field.name}: unsupported type {json.dumps(s.to_json())}")
    return s.type


class StrictReader(avro.io.DatumReader):
    # python3-avro 1.11.1 takes a negative union index as a Python index from
    # the end; Avro's Java library rejects it, and so must we
    def read_union(self, writers_schema, readers_schema, decoder):
        pos = decoder.reader.tell()
        if decoder.read_long() < 0:
            raise Fail("negative union branch index")
        decoder.reader.seek(pos)
        return super().read_union(writers_schema, readers_schema, decoder)


def fmt_double(x):
    if x != x:
        return '"NaN"'
    if x in (float("inf"), float("-inf")):
        return '"Infinity"' if x > 0 else '"-Infinity"'
    return repr(x)  # shortest round-trip digits; AvroFrag.java prints the same


def fmt(typ, v, name):
    if typ in RANGE:
        lo, hi = RANGE[typ]
        if not lo <= v <= hi:
            raise Fail(f"field {name}: {v} out of range for {typ}")
        return str(v)
    if typ == "boolean":
        return "true" if v else "false"
    if typ == "double":
        return fmt_double(v)
    if typ == "bytes":
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Fail(f"field {name}: bytes are not valid UTF-8 ({e.reason} at offset {e.start})")
    # escapes exactly " \ and the controls < 0x20 (\b \f \n \r \t, else \u00xx)
    return json.dumps(v, ensure_ascii=False)


def read_exact(f, n, what):
    b = f.read(n)
    if len(b) != n:  # the stream ended inside a frame
        raise Fail(f"truncated {what}: {len(b)} of {n} bytes")
    return b


def main(argv):
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--confluent"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            schema = avro.schema.parse(f.read())
        if not isinstance(schema, avro.schema.RecordSchema):
            raise Fail("the schema is not a record")
        types = [(fl.name, field_type(fl)) for fl in schema.fields]
    except (OSError, avro.errors.AvroException, ValueError, Fail) as e:
        print(f"decode.py: {argv[0]}: {e}", file=sys.stderr)
        return 1
    prefix = b""
    if len(argv) == 3:
        if not (argv[2].isascii() and argv[2].isdigit()) or int(argv[2]) >= 1 << 32:
            print(f"decode.py: --confluent {argv[2]}: not a schema id (0..4294967295)", file=sys.stderr)
            return 2
        prefix = b"\0" + struct.pack(">I", int(argv[2]))

    reader = StrictReader(schema)
    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    n = 0
    while True:
        head = stdin.read(4)
        if not head:
            return 0
        n += 1
        try:
            if len(head) != 4:
                raise Fail(f"truncated frame length: {len(head)} of 4 bytes")
            msg = read_exact(stdin, struct.unpack(">I", head)[0], "frame")
            if not msg.startswith(prefix):
                raise Fail(f"no Confluent framing for schema id {argv[2]} (starts {msg[:5].hex() or 'empty'})")
            buf = io.BytesIO(msg)
            buf.seek(len(prefix))
            rec = reader.read(avro.io.BinaryDecoder(buf))
            if buf.tell() != len(msg):
                raise Fail(f"{len(msg) - buf.tell()} bytes left over after the datum")
            parts = []
            for name, typ in types:
                v = rec[name]
                parts.append(f'"{name}":' + ("null" if v is None else fmt(typ, v, name)))
            out.write(("{" + ",".join(parts) + "}\n").encode("utf-8"))
        except Fail as e:
            return error(out, n, str(e))
        except (avro.errors.AvroException, ValueError, struct.error) as e:
            # ValueError includes UnicodeDecodeError (a string that is not UTF-8)
            return error(out, n, f"{type(e).__name__}: {e}")


def error(out, n, text):
    out.flush()
    print(f"decode.py: message {n}: {text}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

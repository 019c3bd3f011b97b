// AvroFrag: decode a stream of Avro binary fragments with Apache Avro's Java library.
//
// usage: java -cp 'build/avro/lib/*:build/avro/classes' AvroFrag SCHEMA.avsc [--confluent ID] < frames
// (tests/avro/avro.sh decode-java does this)
//
// stdin is a stream of frames, each a 4-byte big-endian length and that many
// bytes (what `kcat -C -f '%R%s'` prints); each frame is one message and must be
// exactly one datum of the record SCHEMA (no container header), optionally after
// the Confluent framing 0x00 + 4-byte big-endian schema id (--confluent ID).
// Prints one compact JSON object per message, fields in schema order, in the
// exact text tests/avro/decode.py prints (rules in tests/avro/README). Exit 0
// when every message decoded, 1 at the first error (stderr names the message,
// 1-based), 2 on usage.

import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

public class AvroFrag {
    static final Set<Schema.Type> PRIMITIVES = EnumSet.of(Schema.Type.LONG, Schema.Type.INT,
            Schema.Type.STRING, Schema.Type.BYTES, Schema.Type.BOOLEAN, Schema.Type.DOUBLE);

    static class Fail extends Exception {
        Fail(String m) { super(m); }
    }

    // the field's primitive type (of the non-null branch of a union)
    static Schema.Type fieldType(Schema.Field f) throws Fail {
        Schema s = f.schema();
        if (s.getType() == Schema.Type.UNION) {
            List<Schema> b = s.getTypes();
            int nul = b.size() != 2 ? -1 : b.get(0).getType() == Schema.Type.NULL ? 0
                    : b.get(1).getType() == Schema.Type.NULL ? 1 : -1;
            if (nul < 0)
                throw new Fail("field " + f.name() + ": only [\"null\", T] unions are supported");
            s = b.get(1 - nul);
        }
        // decode.py refuses logical types too (python3-avro would turn them into objects)
        if (!PRIMITIVES.contains(s.getType()) || s.getLogicalType() != null || s.getProp("logicalType") != null)
            throw new Fail("field " + f.name() + ": unsupported type " + s);
        return s.getType();
    }

    // Python's repr(float): the shortest decimal that reads back as d (the
    // closest to d among those), positional when -4 < decpt <= 16, else
    // d.ddde+XX. Java 17's Double.toString is neither shortest nor in that form.
    static String fmtDouble(double d) {
        if (Double.isNaN(d)) return "\"NaN\"";
        if (Double.isInfinite(d)) return d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(d), best = null;
        for (int p = 1; p <= 17 && best == null; p++) {
            BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            for (BigDecimal c : new BigDecimal[] { r, r.subtract(r.ulp()), r.add(r.ulp()) })
                if (Double.parseDouble(c.toString()) == d && (best == null
                        || c.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0))
                    best = c;
        }
        best = best.stripTrailingZeros();
        String digits = best.unscaledValue().abs().toString();
        int n = digits.length(), decpt = n - best.scale();
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (decpt <= -4 || decpt > 16) {
            sb.append(digits.charAt(0));
            if (n > 1) sb.append('.').append(digits, 1, n);
            int e = decpt - 1;
            sb.append(e < 0 ? "e-" : "e+").append(Math.abs(e) < 10 ? "0" : "").append(Math.abs(e));
        } else if (decpt <= 0) {
            sb.append("0.").append("0".repeat(-decpt)).append(digits);
        } else if (decpt >= n) {
            sb.append(digits).append("0".repeat(decpt - n)).append(".0");
        } else {
            sb.append(digits, 0, decpt).append('.').append(digits, decpt, n);
        }
        return sb.toString();
    }

    // escapes exactly " \ and the controls < 0x20 (\b \f \n \r \t, else backslash-u00xx),
    // as Python's json.dumps(ensure_ascii=False)
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
            case '"': sb.append("\\\""); break;
            case '\\': sb.append("\\\\"); break;
            case '\b': sb.append("\\b"); break;
            case '\f': sb.append("\\f"); break;
            case '\n': sb.append("\\n"); break;
            case '\r': sb.append("\\r"); break;
            case '\t': sb.append("\\t"); break;
            default:
                if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                else sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    // strict UTF-8: Avro's Utf8.toString() would replace bad bytes with U+FFFD
    static String utf8(ByteBuffer b, String field, String what) throws Fail {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b).toString();
        } catch (CharacterCodingException e) {
            throw new Fail("field " + field + ": " + what + " not valid UTF-8 (" + e + ")");
        }
    }

    static String fmt(Schema.Type t, Object v, String field) throws Fail {
        switch (t) {
        case LONG: case INT: return v.toString();
        case BOOLEAN: return ((Boolean) v) ? "true" : "false";
        case DOUBLE: return fmtDouble((Double) v);
        case BYTES: return quote(utf8(((ByteBuffer) v).duplicate(), field, "bytes are"));
        default: // STRING: a Utf8 unless the schema asks for java.lang.String
            if (v instanceof Utf8) {
                Utf8 u = (Utf8) v;
                return quote(utf8(ByteBuffer.wrap(u.getBytes(), 0, u.getByteLength()), field, "string is"));
            }
            return quote(v.toString());
        }
    }

    static void usage() {
        System.err.println("usage: AvroFrag SCHEMA.avsc [--confluent ID] < frames");
        System.exit(2);
    }

    public static void main(String[] args) throws IOException {
        if (!(args.length == 1 || (args.length == 3 && args[1].equals("--confluent")))) usage();
        Schema schema;
        List<Schema.Field> fields;
        Schema.Type[] types;
        try {
            schema = new Schema.Parser().parse(new File(args[0]));
            if (schema.getType() != Schema.Type.RECORD) throw new Fail("the schema is not a record");
            fields = schema.getFields();
            types = new Schema.Type[fields.size()];
            for (int i = 0; i < types.length; i++) types[i] = fieldType(fields.get(i));
        } catch (Exception e) {
            System.err.println("AvroFrag: " + args[0] + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        byte[] prefix = new byte[0];
        if (args.length == 3) {
            long id = -1;
            if (args[2].matches("[0-9]{1,10}")) id = Long.parseLong(args[2]);
            if (id < 0 || id > 0xffffffffL) {
                System.err.println("AvroFrag: --confluent " + args[2] + ": not a schema id (0..4294967295)");
                System.exit(2);
            }
            prefix = new byte[] { 0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id };
        }

        GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        BinaryDecoder dec = null;
        for (long n = 1;; n++) {
            int b0 = in.read();
            if (b0 < 0) break;
            try {
                byte[] head = new byte[4];
                head[0] = (byte) b0;
                readFully(in, head, 1, "frame length");
                int len = ByteBuffer.wrap(head).getInt();
                if (len < 0) throw new Fail("frame length " + (len & 0xffffffffL) + " too large");
                byte[] msg = new byte[len];
                readFully(in, msg, 0, "frame");
                for (int i = 0; i < prefix.length; i++)
                    if (i >= msg.length || msg[i] != prefix[i])
                        throw new Fail("no Confluent framing for schema id " + args[2]);
                dec = DecoderFactory.get().binaryDecoder(msg, prefix.length, msg.length - prefix.length, dec);
                GenericRecord rec = reader.read(null, dec);
                if (!dec.isEnd())
                    throw new Fail(dec.inputStream().available() + " bytes left over after the datum");
                StringBuilder line = new StringBuilder("{");
                for (int i = 0; i < types.length; i++) {
                    String name = fields.get(i).name();
                    Object v = rec.get(i);
                    if (i > 0) line.append(',');
                    line.append('"').append(name).append("\":").append(v == null ? "null" : fmt(types[i], v, name));
                }
                out.write(line.append("}\n").toString());
            } catch (Fail | IOException | RuntimeException e) {
                out.flush();
                System.err.println("AvroFrag: message " + n + ": "
                        + (e instanceof Fail ? e.getMessage() : e.toString()));
                System.exit(1);
            }
        }
        out.flush();
        System.exit(0);
    }

    static void readFully(DataInputStream in, byte[] b, int off, String what) throws IOException, Fail {
        try {
            in.readFully(b, off, b.length - off);
        } catch (EOFException e) {
            throw new Fail("truncated " + what);
        }
    }
}

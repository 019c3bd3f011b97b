#!/usr/bin/python3
"""schema_oracle.py: an independent check of events against JSON Schemas.

Usage:
    schema_oracle.py DIR URI EVENTS   validate each line of EVENTS (one JSON
                                      event a line, "-" for stdin) against
                                      the schema URI ("/netflow/flow/1.0.0")
    schema_oracle.py --check DIR      check every DIR/**/*.json against the
                                      draft-07 meta-schema

A URI "/a/b/1.0.0" is read from DIR/a/b/1.0.0.json, and so are the $refs
that lead out of it ("/fragment/common/1.0.0"): the layout of Wikimedia's
schema repositories and of kafkatee-pipe's schema.dir.

For each invalid event it prints one line, tab-separated:
    LINE  POINTER  KEYWORD  MESSAGE
LINE counts from 1; POINTER is the RFC 6901 pointer of the failing value in
the event ("" for the event itself, as for "required" and
"additionalProperties"); KEYWORD the failing keyword; the error is
jsonschema's best_match.  Exit status: 0 all valid, 1 some invalid, 2 the
schema or the arguments are wrong.

It uses Debian's python3-jsonschema (Draft7Validator) and nothing of
kafkatee-pipe's, so the C validator can be checked against it.  Formats:
that version checks ipv4, ipv6 and date by itself but not date-time, time
or uuid without modules Debian bookworm does not package
(rfc3339-validator); date-time and time are checked here with Debian's
python3-rfc3339 (pyrfc3339.parse; it refuses a leap second ":60" that RFC
3339 allows), uuid with jsonschema's own 2019-09 check.  hostname is not
checked (it needs fqdn, not packaged): a schema that uses a format this
script cannot check is refused (exit 2), never silently passed, as the C
validator refuses one at start.
"""

import json
import os
import sys
import urllib.parse

import jsonschema
import pyrfc3339
from jsonschema import Draft7Validator, FormatChecker, RefResolver
from jsonschema.exceptions import best_match

# Members whose values are data, not schemas: no "format" keyword in them.
DATA_KEYWORDS = ("enum", "const", "examples", "default")


def die(msg):
    print("schema_oracle: " + msg, file=sys.stderr)
    sys.exit(2)


def is_rfc3339(instance):
    if not isinstance(instance, str):
        return True
    try:
        pyrfc3339.parse(instance)
    except ValueError:
        return False
    return True


def is_rfc3339_time(instance):
    if not isinstance(instance, str):
        return True
    return is_rfc3339("1970-01-01T" + instance)


def format_checker():
    """Draft 7's checker, plus date-time, time and uuid (see above)."""
    fc = FormatChecker(formats=())
    for name, (func, raises) in Draft7Validator.FORMAT_CHECKER.checkers.items():
        fc.checks(name, raises)(func)
    fc.checks("date-time")(is_rfc3339)
    fc.checks("time")(is_rfc3339_time)
    uuid = jsonschema.Draft201909Validator.FORMAT_CHECKER.checkers["uuid"]
    fc.checks("uuid", uuid[1])(uuid[0])
    return fc


def unchecked_formats(node, fc, where=""):
    """The pointers of every "format" that fc cannot check."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in DATA_KEYWORDS:
                continue
            if key == "format" and isinstance(value, str):
                if value not in fc.checkers:
                    found.append("%s/format (%s)" % (where, value))
                continue
            found += unchecked_formats(value, fc, where + "/" + key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += unchecked_formats(value, fc, "%s/%d" % (where, i))
    return found


def strict_object(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError("duplicate key %r" % key)
        seen[key] = value
    return seen


def no_constant(name):
    raise ValueError("not JSON: %s" % name)


def loads(text):
    """json.loads without what RFC 8259 refuses (NaN) or leaves open."""
    return json.loads(text, object_pairs_hook=strict_object,
                      parse_constant=no_constant)


class SchemaDir:
    """Loads "/a/b/1.0.0" from DIR/a/b/1.0.0.json, once."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.fc = format_checker()
        self.docs = {}

    def path(self, uri):
        path = urllib.parse.urldefrag(uri)[0]
        if not path.startswith("/") or "/../" in path + "/":
            die("%s: not a URI under the schema dir" % uri)
        if not path.endswith(".json"):
            path += ".json"
        return self.root + path

    def load(self, uri):
        uri = urllib.parse.urldefrag(uri)[0]
        if uri in self.docs:
            return self.docs[uri]
        path = self.path(uri)
        try:
            with open(path, encoding="utf-8") as f:
                doc = loads(f.read())
        except (OSError, ValueError) as e:
            die("%s: %s" % (path, e))
        try:
            Draft7Validator.check_schema(doc)
        except jsonschema.SchemaError as e:
            die("%s: not a draft-07 schema: %s" % (path, e.message))
        bad = unchecked_formats(doc, self.fc)
        if bad:
            die("%s: format not checked here: %s" % (path, ", ".join(bad)))
        self.docs[uri] = doc
        return doc

    def validator(self, uri):
        schema = self.load(uri)
        resolver = RefResolver(base_uri=uri, referrer=schema,
                               handlers={"": self.load})
        return Draft7Validator(schema, resolver=resolver,
                               format_checker=self.fc)


def pointer(error):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1")
                   for p in error.absolute_path)


def validate(root, uri, events):
    validator = SchemaDir(root).validator(uri)
    invalid = 0
    f = sys.stdin if events == "-" else open(events, encoding="utf-8")
    for n, line in enumerate(f, 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        try:
            event = loads(line)
        except ValueError as e:
            invalid += 1
            print("%d\t-\tjson\t%s" % (n, e))
            continue
        error = best_match(validator.iter_errors(event))
        if error is not None:
            invalid += 1
            print("%d\t%s\t%s\t%s" % (n, pointer(error), error.validator,
                                      error.message.replace("\n", " ")))
    return 1 if invalid else 0


def check(root):
    sd = SchemaDir(root)
    count = 0
    for top, _, files in os.walk(sd.root):
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            rel = os.path.join(top, name)[len(sd.root):-len(".json")]
            doc = sd.load(rel)
            if doc.get("$id", rel) != rel:
                die("%s.json: $id %s is not its path" % (rel, doc["$id"]))
            for example in doc.get("examples", []):
                error = best_match(sd.validator(rel).iter_errors(example))
                if error is not None:
                    die("%s.json: an example is invalid: %s: %s"
                        % (rel, pointer(error), error.message))
            count += 1
    print("%d schemas valid" % count)
    return 0 if count else 2


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        return check(argv[2])
    if len(argv) == 4:
        return validate(argv[1], argv[2], argv[3])
    die("usage: schema_oracle.py DIR URI EVENTS | --check DIR")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

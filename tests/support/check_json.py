#!/usr/bin/env python3
"""Validates sitedeploy `--json` outputs against schema/output.schema.json.

    python3 tests/support/check_json.py [--schema PATH] [FILE ...]
    python3 tests/support/check_json.py --check-schema

Each FILE (or stdin, with no FILE or with `-`) must hold exactly one JSON
document. The schema is first checked against the JSON Schema 2020-12
meta-schema (Draft202012Validator.check_schema). Every error is printed, one
per line on stderr, as `SOURCE: JSON-PATH: message`; the exit code is 1 when any
document (or the schema) is invalid or unreadable, 0 (silently) when all are
valid. Standard library and jsonschema only (use the project's venv:
/work/main/.venv/bin/python).
"""

import argparse
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

SCHEMA = Path(__file__).resolve().parents[2] / "schema" / "output.schema.json"


def load_schema(path):
    """The schema, checked against the 2020-12 meta-schema; raises ValueError."""
    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read the schema: {e}") from e
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        raise ValueError(
            f"{path}: not a valid 2020-12 schema at {e.json_path}: {e.message}"
        ) from e
    return schema


def validator(schema):
    """A 2020-12 validator of `schema` (formats are annotations only: the
    schema enforces times and dates with patterns)."""
    return Draft202012Validator(schema)


def errors_of(v, document):
    """Every error of `document`, as (JSON path, message), sorted by path."""
    out = []
    for e in v.iter_errors(document):
        out.append((e.json_path, e.message))
    return sorted(out)


def check_text(v, text, source):
    """The error lines of one document's text (empty: valid)."""
    try:
        document = json.loads(text)
    except ValueError as e:
        return [f"{source}: not one JSON document: {e}"]
    return [f"{source}: {path}: {message}" for path, message in errors_of(v, document)]


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Validate sitedeploy --json outputs against the output schema."
    )
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="one JSON document per file; none or '-': stdin")
    p.add_argument("--check-schema", action="store_true",
                   help="only check that the schema is a valid 2020-12 schema")
    p.add_argument("--schema", default=str(SCHEMA), metavar="PATH",
                   help=f"the schema (default: {SCHEMA})")
    args = p.parse_args(argv)

    try:
        schema = load_schema(args.schema)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    if args.check_schema:
        return 0

    v = validator(schema)
    failed = False
    for name in args.files or ["-"]:
        if name == "-":
            source, text = "<stdin>", sys.stdin.read()
        else:
            source = name
            try:
                text = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                print(f"{source}: cannot read: {e}", file=sys.stderr)
                failed = True
                continue
        lines = check_text(v, text, source)
        for line in lines:
            print(line, file=sys.stderr)
        failed = failed or bool(lines)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

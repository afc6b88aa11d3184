#!/usr/bin/env python3
"""Checks docs/scenario.schema.json against `crdtsim validate`.

- every shipped scenario (scenarios/**.json) validates against the schema and
  is accepted by `crdtsim validate`;
- test cases in good/ are accepted by both; cases in bad/ are rejected by
  both (exit 2, with the expected message naming the file and JSON pointer);
- cases in cross/ break a rule that spans fields or files (which JSON Schema
  cannot express): the schema accepts them and `crdtsim validate` rejects
  them with the expected message.
The validator is python3-jsonschema (Debian), Draft 2020-12.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import jsonschema


def schema_errors(validator, path):
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        return [f"not JSON: {error}"]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def crdtsim_validate(binary, path):
    result = subprocess.run([binary, "validate", path], capture_output=True, text=True,
                            check=False)
    return result.returncode, result.stderr.strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schema", required=True)
    parser.add_argument("--crdtsim", required=True)
    parser.add_argument("--shipped", required=True)
    parser.add_argument("--cases", required=True)
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    with open(os.path.join(args.cases, "expected_errors.json"), encoding="utf-8") as handle:
        expected = json.load(handle)

    problems = []
    checked = 0
    shipped = sorted(glob.glob(os.path.join(args.shipped, "**", "*.json"), recursive=True))
    if len(shipped) < 12:
        problems.append(f"expected at least 12 shipped scenario files, found {len(shipped)}")
    for path in shipped + sorted(glob.glob(os.path.join(args.cases, "good", "*.json"))):
        checked += 1
        errors = schema_errors(validator, path)
        if errors:
            problems.append(f"{path}: the schema rejects it: {errors[0]}")
        status, message = crdtsim_validate(args.crdtsim, path)
        if status != 0:
            problems.append(f"{path}: crdtsim validate rejects it (exit {status}): {message}")

    for kind in ("bad", "cross"):
        for path in sorted(glob.glob(os.path.join(args.cases, kind, "*.json"))):
            checked += 1
            name = f"{kind}/{os.path.basename(path)}"
            errors = schema_errors(validator, path)
            if kind == "bad" and not errors:
                problems.append(f"{path}: the schema accepts it, expected a rejection")
            if kind == "cross" and errors:
                problems.append(f"{path}: the schema rejects it ({errors[0]}); cross/ cases "
                                "must be ones only crdtsim validate can see")
            status, message = crdtsim_validate(args.crdtsim, path)
            if status != 2:
                problems.append(f"{path}: crdtsim validate exit {status}, expected 2")
            if name not in expected:
                problems.append(f"{path}: no expected message in expected_errors.json")
            elif expected[name] not in message or path not in message:
                problems.append(f"{path}: message {message!r} does not name the file and "
                                f"contain {expected[name]!r}")
    for name in expected:
        if not os.path.exists(os.path.join(args.cases, name)):
            problems.append(f"expected_errors.json names {name}, which does not exist")

    for problem in problems:
        print(problem)
    print(f"schema agreement: {checked} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

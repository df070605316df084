"""Checks one server's answer: the first number in the JSON (any nesting: ferry's
{"outputs": {"Y": [[y]]}}, Flask's [y]) must equal EXPECTED's y within 1e-4 relative.
  /usr/bin/python3 answer.py EXPECTED.json < ANSWER"""
import json
import sys


def first_number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for item in items:
        found = first_number(item)
        if found is not None:
            return found
    return None


expected = json.load(open(sys.argv[1]))["y"]
text = sys.stdin.read()
try:
    got = first_number(json.loads(text))
except ValueError:
    got = None
if got is None or abs(got - expected) > 1e-4 * max(1.0, abs(expected)):
    sys.exit(f"wrong answer: {text[:200]!r}, expected {expected}")

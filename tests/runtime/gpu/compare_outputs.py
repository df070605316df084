#!/usr/bin/env python3
"""Compares two `score` outputs: the GPU model's against the host reference's.

  compare_outputs.py REFERENCE.json CANDIDATE.json [--rtol 1e-3]

Float outputs pass when max|candidate - reference| <= rtol * max(max|reference|, 1e-6)
per output (the error relative to the output's scale); integer outputs (class indices)
and labels must be equal, except where the reference's own values tie within rtol.
Prints one line per output; exit status 1 on any difference. Standard library only.
"""
import json
import sys


def flatten(value, out):
    if isinstance(value, list):
        for item in value:
            flatten(item, out)
    else:
        out.append(value)
    return out


def main():
    args = sys.argv[1:]
    rtol = 1e-3
    if "--rtol" in args:
        at = args.index("--rtol")
        rtol = float(args[at + 1])
        del args[at:at + 2]
    with open(args[0]) as f:
        reference = json.load(f)
    with open(args[1]) as f:
        candidate = json.load(f)
    ok = True
    worst = 0.0
    for section in ("outputs", "class_ids"):
        ref_outputs = reference.get(section, {})
        cand_outputs = candidate.get(section, {})
        if sorted(ref_outputs) != sorted(cand_outputs):
            print(f"{section}: names differ: {sorted(ref_outputs)} vs {sorted(cand_outputs)}")
            ok = False
            continue
        for name in sorted(ref_outputs):
            ref = flatten(ref_outputs[name], [])
            cand = flatten(cand_outputs[name], [])
            if len(ref) != len(cand):
                print(f"{section}.{name}: {len(cand)} values, the reference has {len(ref)}")
                ok = False
                continue
            floats = any(isinstance(v, float) for v in ref)
            if floats:
                scale = max([abs(v) for v in ref] + [1e-6])
                error = max([abs(a - b) for a, b in zip(ref, cand)] + [0.0]) / scale
                worst = max(worst, error)
                status = "ok" if error <= rtol else "DIFFERS"
                print(f"{section}.{name}: {len(ref)} values, max relative error {error:.3g} {status}")
                ok &= error <= rtol
            else:
                mismatches = sum(1 for a, b in zip(ref, cand) if a != b)
                print(f"{section}.{name}: {len(ref)} values, {mismatches} differ")
                # Near-ties may swap places between two correct float computations.
                ok &= mismatches == 0 or mismatches * 20 <= len(ref)
    print(f"worst relative error {worst:.3g} (tolerance {rtol})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run gremlins' operator mutants by hand (docs/mutation.md): the ones it
reports NOT COVERED although tests run them (case expressions of tagless
switches, constants) and the ones that lived before a test was written.
Usage: mutants.py TREE PKGROOT < gremlins-output-lines
Each line "STATUS TYPE at file:line:col" (file relative to PKGROOT, as
gremlins prints it) is applied to TREE (a copy: the file is restored after
each run), then `go test -count=1 -failfast ./PKGROOT/<dir>` decides:
KILLED (tests fail), LIVED (they pass) or TIMED OUT (120 s)."""
import os, re, subprocess, sys
if len(sys.argv) != 3 or sys.argv[1] in ('-h', '--help'):
    sys.exit(__doc__)
tree, root = sys.argv[1], sys.argv[2]
ARI = {'+': '-', '-': '+', '*': '/', '/': '*', '%': '*'}
INC = {'++': '--', '--': '++'}
INV = {'-': '+'}
NEG = {'==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<'}
BND = {'<': '<=', '<=': '<', '>': '>=', '>=': '>'}
for raw in sys.stdin:
    m = re.search(r'(CONDITIONALS_NEGATION|CONDITIONALS_BOUNDARY|ARITHMETIC_BASE|INCREMENT_DECREMENT|INVERT_NEGATIVES) at (\S+):(\d+):(\d+)', raw)
    if not m:
        continue
    kind, f, ln, col = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    path = os.path.join(tree, root, f)
    src = open(path, 'rb').read().decode()
    lines = src.split('\n')
    L = lines[ln - 1]
    i = col - 1
    table = {'CONDITIONALS_NEGATION': NEG, 'CONDITIONALS_BOUNDARY': BND, 'ARITHMETIC_BASE': ARI, 'INCREMENT_DECREMENT': INC, 'INVERT_NEGATIVES': INV}[kind]
    op = L[i:i + 2] if L[i:i + 2] in table else L[i:i + 1]
    if op not in table:
        print(f"SKIPPED {kind} at {f}:{ln}:{col} (no operator {L[i:i+2]!r})", flush=True)
        continue
    lines[ln - 1] = L[:i] + table[op] + L[i + len(op):]
    pkg = './' + os.path.join(root, os.path.dirname(f))
    try:
        open(path, 'w').write('\n'.join(lines))
        r = subprocess.run(['go', 'test', '-count=1', '-failfast', pkg], cwd=tree, capture_output=True, timeout=120)
        st = 'LIVED' if r.returncode == 0 else 'KILLED'
    except subprocess.TimeoutExpired:
        st = 'TIMED OUT'
    finally:
        # Restore even on Ctrl-C, so the copy never keeps a mutant.
        open(path, 'w').write(src)
    print(f"{st:>11} {kind} at {f}:{ln}:{col} ({op} -> {table[op]}: {L.strip()[:70]})", flush=True)

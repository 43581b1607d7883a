#!/usr/bin/env python3
"""check-tunables.py: holds the Tunables table of man/opentoe.1 against
the code.  Every OPENTOE_* and AWSTOE_* variable the C sources name must
have a row, every row must be read by the code, and where the code reads
a number with env_long()/env_u64()/env_bound() and a default it spells as
a literal or a #define, the table's default must be that number.  The
AWS_* variables the code reads (the SDKs' names) must each be described
in the page's ENVIRONMENT section.
Prints TAP; exits 1 on a mismatch."""
import argparse, os, re, sys

DIRS = ("agent", "aws", "common", "interpreter", "modules")
NAME = r'(?:OPENTOE|AWSTOE)_[A-Z0-9_]+'


def sources(root):
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    p = os.path.join(dirpath, f)
                    with open(p, encoding="utf-8") as fh:
                        yield p, fh.read()


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def c_number(expr, defines, depth=0):
    """The value of a simple C constant expression, or None."""
    if depth > 8:
        return None
    e = expr.strip()
    e = re.sub(r'UINT64_C\(([^()]*)\)', r'(\1)', e)
    e = re.sub(r'\b(\d+)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU])\b', r'\1', e)
    def sub(m):
        v = defines.get(m.group(0))
        if v is None:
            raise KeyError(m.group(0))
        n = c_number(v, defines, depth + 1)
        if n is None:
            raise KeyError(m.group(0))
        return str(n)
    try:
        e = re.sub(r'\b[A-Za-z_][A-Za-z0-9_]*\b', sub, e)
    except KeyError:
        return None
    if not re.fullmatch(r'[0-9\s()+\-*/<>]+', e):
        return None
    try:
        return int(eval(e.replace('/', '//')))
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    a = ap.parse_args()

    code_names, defines, reads, aws_names = {}, {}, [], {}
    for path, text in sources(a.root):
        body = strip_comments(text)
        for m in re.finditer(r'^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$', body, flags=re.M):
            defines.setdefault(m.group(1), m.group(2).strip())
        for m in re.finditer(r'"(' + NAME + r')"', body):
            code_names.setdefault(m.group(1), os.path.relpath(path, a.root))
        for m in re.finditer(r'"(AWS_[A-Z0-9_]+)"', body):
            aws_names.setdefault(m.group(1), os.path.relpath(path, a.root))
        for m in re.finditer(r'\benv_(?:long|u64|bound)\s*\(\s*"(' + NAME + r')"\s*,\s*([^,()]+(?:\([^()]*\))?[^,()]*)', body):
            reads.append((m.group(1), m.group(2)))
    # a name given through a macro: #define X_ENV "OPENTOE_..."
    for k, v in defines.items():
        if re.fullmatch(r'"' + NAME + r'"', v):
            code_names.setdefault(v.strip('"'), "#define " + k)

    with open(os.path.join(a.root, "man", "opentoe.1"), encoding="utf-8") as fh:
        man = fh.read()
    sec = man.split(".SS Tunables", 1)
    rows = {}
    if len(sec) == 2:
        table = sec[1].split(".TS", 1)[1].split(".TE", 1)[0]
        for m in re.finditer(r'^(' + NAME + r')\|([^|]*)\|', table, flags=re.M):
            rows[m.group(1)] = m.group(2).strip()

    n = 0
    bad = 0

    def check(ok, what, detail=""):
        nonlocal n, bad
        n += 1
        if not ok:
            bad += 1
        print(("ok" if ok else "not ok") + f" {n} - {what}")
        if not ok and detail:
            for line in detail.splitlines():
                print("# " + line)

    check(len(rows) > 0, "man/opentoe.1 has a Tunables table")
    missing = sorted(set(code_names) - set(rows))
    check(not missing, "every variable the code reads has a row",
          "\n".join(f"{v} (read in {code_names[v]}) has no row in man/opentoe.1's Tunables table" for v in missing))
    stale = sorted(set(rows) - set(code_names))
    check(not stale, "every row names a variable the code reads",
          "\n".join(f"{v} is in the table but no source names it" for v in stale))
    env = man.split(".SH ENVIRONMENT", 1)[-1].split("\n.SH ", 1)[0]
    described = set(re.findall(r'AWS_[A-Z0-9_]+', env))
    undescribed = sorted(set(aws_names) - described)
    check(len(aws_names) >= 10 and not undescribed, f"the {len(aws_names)} AWS_* variables the code reads are described",
          "\n".join(f"{v} (read in {aws_names[v]}) is not in man/opentoe.1's ENVIRONMENT" for v in undescribed))
    compared = 0
    for name, expr in sorted(set(reads)):
        want = c_number(expr, defines)
        if want is None or name not in rows:
            continue
        compared += 1
        got = rows[name]
        check(got == str(want), f"{name}: the table's default is the code's",
              f"the code's default is {expr.strip()} = {want}, the table says {got!r}")
    check(compared >= 20, f"defaults compared with the code: {compared} (at least 20)")
    print(f"1..{n}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

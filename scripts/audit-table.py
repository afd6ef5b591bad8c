#!/usr/bin/env python3
"""Tabulate scripts/audit-rules.sh outputs: each rule off against the defaults (design section 75).
usage: scripts/audit-table.py TAG [rule ...]  (reads /tmp/audit-TAG-*-q.txt and -u.txt)"""
import glob, re, sys

def two(s):  # "a / b / c" -> (a, b)
    p = [x.strip() for x in s.split(" / ")]
    return p[0], p[1]

def parse(path):
    t = open(path).read()
    r = {"sit": {}}
    for line in t.splitlines():
        if line.startswith("| ") and not line.startswith("| situation"):
            c = [x.strip() for x in line.strip("|").split("|")]
            if len(c) < 8:
                continue
            r["sit"][c[0]] = (c[2], c[3])
            if c[0] == "**all**":
                r["caught"] = two(c[2])
                r["fa_all"] = two(c[3])
                r["res"] = tuple(re.sub(r" min", "", x) for x in two(c[6]))
                r["half"] = tuple(x.split("/")[0] for x in two(c[7]))
    m = re.search(r"Healthy series with a false alarm: (\d+) / (\d+)", t)
    r["fa"] = m.groups()
    m = re.search(r"5%/h: median delay (\S+ ?\S*) / (\S+ ?\S*) /", t)
    r["d5"] = tuple(x.replace(" min", "") for x in m.groups())
    m = re.search(r"caught (\d+)/\d+ / (\d+)/\d+", t)
    r["c5"] = m.groups() if m else ("", "")
    m = re.search(r"resolved while still growing: (\d+) / (\d+)", t)
    r["grow"] = m.groups()
    r["caught"] = tuple(x.split("/")[0] for x in r["caught"])
    return r

def cells(r):
    f = lambda k: "%s / %s" % r[k]
    return [f("fa"), f("caught"), f("c5"), f("d5"), f("half"), f("res"), f("grow")]

def moved(d, r):
    out = []
    for s, v in r["sit"].items():
        if s.startswith("**"):
            continue
        dv = d["sit"].get(s)
        if dv and dv != v:
            ch = []
            for name, a, b in (("caught", dv[0], v[0]), ("FA", dv[1], v[1])):
                if a != b and a != "– / – / –":
                    a2 = [x.split("/")[0] for x in two(a)]; b2 = [x.split("/")[0] for x in two(b)]
                    if a2 != b2:
                        ch.append("%s %s→%s" % (name, "/".join(a2), "/".join(b2)))
            if ch:
                out.append("%s %s" % (s, ", ".join(ch)))
    return out

tag = sys.argv[1]
rules = sys.argv[2:] or sorted({re.match(r"/tmp/audit-%s-(.*)-q.txt" % tag, p).group(1)
                               for p in glob.glob("/tmp/audit-%s-*-q.txt" % tag)} - {"default"})
hdr = "| rule off | bench | healthy FA | leaks caught | ≥5%/h caught | ≥5%/h delay | half TTL | resolution | resolved growing |"
print(hdr); print("|" + "---|" * 9)
dq = parse("/tmp/audit-%s-default-q.txt" % tag); du = parse("/tmp/audit-%s-default-u.txt" % tag)
print("| (defaults) | quality | " + " | ".join(cells(dq)) + " |")
print("| (defaults) | unseen | " + " | ".join(cells(du)) + " |")
notes = []
for rule in rules:
    try:
        q = parse("/tmp/audit-%s-%s-q.txt" % (tag, rule)); u = parse("/tmp/audit-%s-%s-u.txt" % (tag, rule))
    except (FileNotFoundError, AttributeError):
        continue
    print("| %s | quality | %s |" % (rule, " | ".join(cells(q))))
    print("| | unseen | %s |" % " | ".join(cells(u)))
    notes.append((rule, moved(dq, q), moved(du, u)))
print()
for rule, mq, mu in notes:
    print("%s: quality: %s; unseen: %s" % (rule, "; ".join(mq) or "nothing moves", "; ".join(mu) or "nothing moves"))

# Compact rows for the design section: quality then unseen, each "FA, caught, d5, ½ttl, res, grow".
print()
def short(r):
    res = tuple(re.sub(r" \(\d+ never\)", "", x) for x in r["res"])
    return ", ".join("%s/%s" % p for p in (r["fa"], r["caught"], r["d5"], r["half"], res, r["grow"]))
print("| rule off | quality | unseen |")
print("|---|---|---|")
print("| defaults | %s | %s |" % (short(dq), short(du)))
for rule in rules:
    try:
        q = parse("/tmp/audit-%s-%s-q.txt" % (tag, rule)); u = parse("/tmp/audit-%s-%s-u.txt" % (tag, rule))
    except (FileNotFoundError, AttributeError):
        continue
    print("| `%s` | %s | %s |" % (rule, short(q), short(u)))

#!/usr/bin/env python3
"""Prints the code block that a Markdown file marks with `<!-- install-test: NAME -->`.

The marker is the line right before the opening fence. scripts/install-test.sh runs these
blocks as they are written, so a documented install step that breaks fails the test.
Usage: docsnip.py FILE NAME    (exit 1 when NAME is missing or marked twice)
"""

import re
import sys


def snippet(text, name):
    pattern = re.compile(
        r"^<!-- install-test: " + re.escape(name) + r" -->\n(`{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S
    )
    found = pattern.findall(text)
    if len(found) != 1:
        raise SystemExit(f"docsnip: {name!r} is marked {len(found)} times (want exactly 1)")
    return found[0][1]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(snippet(f.read(), sys.argv[2]))


if __name__ == "__main__":
    main()

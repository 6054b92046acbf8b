#!/usr/bin/env python3
"""Replaces one benchmark's section of docs/benchmarks.md with the Markdown read on stdin.

Usage: bench/section.py NAME [DOC] < section.md

Each benchmark script owns the text between `<!-- bench:NAME:begin -->` and
`<!-- bench:NAME:end -->`; everything outside the markers (the index, the other sections) is
kept as it is. A section that is not in the file yet is appended at its end. DOC defaults to
docs/benchmarks.md under the repository root; DOC `-` prints the section instead. Refuses empty input, so a failed benchmark does not
erase the figures of the last good run.
"""

import os
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3) or not sys.argv[1].replace("-", "").isalnum():
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    doc = sys.argv[2] if len(sys.argv) == 3 else os.path.join(root, "docs", "benchmarks.md")
    body = sys.stdin.read().strip("\n")
    if not body.strip():
        print(f"section.py: empty input, {doc} left unchanged", file=sys.stderr)
        return 1

    if doc == "-":
        print(body)
        return 0

    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    try:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Benchmarks\n"
    block = f"{begin}\n{body}\n{end}"

    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i] + block + text[j + len(end):]
    elif i < 0 and j < 0:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        print(f"section.py: {doc} has an unmatched marker for {name!r}; fix it by hand",
              file=sys.stderr)
        return 1

    tmp = f"{doc}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, doc)
    print(f"section.py: wrote the {name} section of {doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

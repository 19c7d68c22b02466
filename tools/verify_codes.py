#!/usr/bin/env python3
"""Write docs/verify-codes.md from the catalog of verify codes (ngsdk/verify/catalog/).

``--write`` rewrites the page; ``--check`` fails when it is stale (a unit test runs the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.verify.catalog import markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "verify-codes.md"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite docs/verify-codes.md")
    ap.add_argument("--check", action="store_true", help="fail if docs/verify-codes.md is stale")
    args = ap.parse_args(argv)
    text = markdown()
    if args.write:
        atomic_write_bytes(DOC, text.encode())
        print(DOC)
    elif args.check:
        if not DOC.is_file() or DOC.read_text() != text:
            print(f"{DOC} is stale: run python tools/verify_codes.py --write", file=sys.stderr)
            return 1
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

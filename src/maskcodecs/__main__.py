"""``python -m maskcodecs``: the command line (see :mod:`maskcodecs.cli`)."""
from __future__ import annotations

import sys

from maskcodecs.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())

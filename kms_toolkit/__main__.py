"""``python -m kms_toolkit``: the ``kms-toolkit`` command, wherever scripts live."""

from __future__ import annotations

import sys

from kms_toolkit.cli import main

if __name__ == "__main__":
    sys.exit(main())

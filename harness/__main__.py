"""``python -m harness`` is the same as ``codex-matrix``."""

import sys

from harness.cli.main import main

sys.exit(main())

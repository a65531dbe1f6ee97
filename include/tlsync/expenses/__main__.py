"""``python -m tlsync.expenses`` (see :mod:`tlsync.expenses.cli`)."""

import sys

from .cli import main

sys.exit(main())

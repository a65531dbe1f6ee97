"""``python -m tlsync.customers`` — see :mod:`tlsync.customers.cli`."""

import sys

from .cli import main

sys.exit(main())

"""``python -m tlsync.linking`` (see :mod:`tlsync.linking.cli`)."""

import sys

from .cli import main

sys.exit(main())

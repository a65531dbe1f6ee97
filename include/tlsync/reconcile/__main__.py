"""``python -m tlsync.reconcile`` — see :mod:`tlsync.reconcile.cli`."""

from tlsync.reconcile.cli import main

raise SystemExit(main())

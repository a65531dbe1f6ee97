"""``tlsync`` — the one command line of the product (console script in ``pyproject.toml``; ``python -m tlsync``).

Every area keeps its own parser in ``tlsync.<area>.cli`` (``main(argv) -> int``); this module only dispatches
``tlsync <area> …`` to it, so ``tlsync linking list …`` and ``python -m tlsync.linking list …`` are the same code.
Exit codes everywhere: 0 done, 1 the work found problems or a system gave up through every retry, 2 usage or
set-up error, 3 another writer holds the legal entity. A user's mistake or a give-up is one line on stderr, never a
traceback; a closed pipe (``tlsync … | head``) ends quietly.
"""

from __future__ import annotations

import importlib
import os
import sys

#: area → (module with ``main(argv) -> int``, one-line help). Add a new area here.
COMMANDS: dict[str, tuple[str, str]] = {
    "deploy": ("tlsync.deploy", "operator set-up: staging migrations, pools, connection and settings checks"),
    "settings": ("tlsync.settings.cli", "the integration's settings per legal entity (S1–S8)"),
    "linking": ("tlsync.linking.cli", "customer linking: suggestions, the four views and actions (L1–L6)"),
    "customers": ("tlsync.customers.cli", "customer sync between TimeLog and Uniconta (T1, U1, T4)"),
    "items": ("tlsync.items.cli", "item numbers and the default item rules (U2, I1–I5)"),
    "projects": ("tlsync.projects.__main__", "transfer TimeLog projects to Uniconta (T3)"),
    "invoicing": ("tlsync.invoicing.cli", "invoice transfer and its states: list, retry, ignore (T2)"),
    "expenses": ("tlsync.expenses.cli", "expense import from Uniconta to TimeLog (U4, S6)"),
    "reconcile": ("tlsync.reconcile.cli", "the finance reconciliation report (U3)"),
    "contract": ("tlsync.contract.cli", "probe the real APIs (read-only) and diff them with the simulators"),
    "config": ("tlsync.config", "the TLSYNC_* environment settings: their values, defaults and what is wrong"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items())
    return ("usage: tlsync <command> [options]   (tlsync <command> --help for its options)\n\n"
            f"commands:\n{rows}\n")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage(), end="")
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"tlsync: unknown command {name!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    from tlsync.cli_common import EXIT_GAVE_UP, give_up_line
    from tlsync.clients.errors import SyncAPIError

    try:
        return int(module.main(rest) or 0)
    except SyncAPIError as exc:    # a system gave up through every retry, in a command without its own handling
        print(f"tlsync {name}: {give_up_line(exc)}", file=sys.stderr)
        return EXIT_GAVE_UP
    except BrokenPipeError:  # `tlsync … | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()

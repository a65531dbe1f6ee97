"""The product's base for "an operator's setting is wrong" errors (a Connection, an environment variable): their
message is the whole story — one line naming the setting and what it must be — so it is shown as it is, without
the exception's type and never with a traceback (docs/CONVENTIONS.md: one-line errors)."""

from __future__ import annotations


class UserSettingError(ValueError):
    """A setting an operator gave is missing or unusable; the message names it and what to do."""

"""The projects tests use the invoice transfer's world: staged S data, linked customers, simulator clients."""

from tests.invoicing.conftest import world  # noqa: F401  (fixture; staging comes from tests/conftest.py)

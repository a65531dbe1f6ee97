"""The projects tests use the invoice transfer's world: staged S data, linked customers, simulator clients."""

from tests.invoicing.conftest import staging, world  # noqa: F401  (fixtures)

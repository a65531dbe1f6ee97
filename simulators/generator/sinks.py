"""Where generated records go, and how they are assembled into the fixture document.

The generator hands every record to a *sink* under a key: ``("timelog", "<collection>")`` or
``("uniconta", <CompanyId>, "<ClassName>")``. :class:`ListSink` keeps them in lists (``generate()``),
:class:`FileSink` appends them to one temporary file per key (``write_fixture()``: bounded memory), and
:class:`NullSink` drops them (``truth()``). Both real sinks are assembled by the same layout, so the streamed
file and the in-memory dict have the same keys in the same order.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

TIMELOG_COLLECTIONS = (
    "LegalEntities", "CustomerStatuses", "Customers", "Contacts", "Employees", "ProjectTypes", "ProjectCategories",
    "Projects", "Tasks", "TaskTypes", "HourlyRates", "Invoices", "InvoiceLines", "InvoiceLineDetails", "Expenses",
    "Mileages", "WorkUnits",
    # REST-only data (REST v1 field names)
    "Products", "ExpenseTypes", "PaymentTerms", "Currencies",
)
UNICONTA_CLASSES = (
    "DebtorGroupClient", "PaymentTermClient", "DebtorLayoutGroupClient", "GLVatClient", "GLAccountClient",
    "InvItemClient", "EmployeeClient", "DebtorClient", "ContactClient", "CreditorClient", "ProjectGroupClient",
    "PrCategoryClient", "ProjectClient", "DebtorOrderClient", "DebtorOrderLineClient", "DebtorInvoiceClient",
    "DebtorInvoiceLines", "GLTransClient",
)
PROJECT_CLASSES = ("ProjectGroupClient", "PrCategoryClient", "ProjectClient")


def json_default(o: Any) -> Any:
    """``json.dumps(..., default=json_default)``: a 2-decimal ``Decimal`` becomes a JSON number whose text is
    exactly that decimal (``float`` repr is the shortest round-trip form), so ``parse_float=Decimal`` reads it back
    equal."""
    if isinstance(o, Decimal):
        return float(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=json_default)


def dumps(obj: Any) -> str:
    """Compact UTF-8 JSON with ``Decimal`` support (the fixture file's encoding)."""
    return _ENCODER.encode(obj)


class NullSink:
    def add(self, key: tuple, rec: dict) -> None:  # noqa: D102 - drop
        pass

    def count(self, key: tuple) -> int:
        return 0


class ListSink:
    def __init__(self) -> None:
        self.data: dict[tuple, list[dict]] = {}

    def add(self, key: tuple, rec: dict) -> None:
        lst = self.data.get(key)
        if lst is None:
            lst = self.data[key] = []
        lst.append(rec)

    def count(self, key: tuple) -> int:
        return len(self.data.get(key, ()))

    def items(self, key: tuple) -> list[dict]:
        return self.data.get(key, [])


class FileSink:
    """One temp file per key holding ``rec,rec,rec`` (the inside of a JSON array). Records are encoded in
    batches of :attr:`BATCH` (one encoder call per batch), so memory stays bounded by the batch size."""

    BATCH = 2000

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.files: dict[tuple, TextIO] = {}
        self.buffers: dict[tuple, list[dict]] = {}
        self.counts: dict[tuple, int] = {}

    def add(self, key: tuple, rec: dict) -> None:
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = []
            self.counts[key] = 0
        buf.append(rec)
        if len(buf) >= self.BATCH:
            self._flush(key)

    def _flush(self, key: tuple) -> None:
        buf = self.buffers[key]
        if not buf:
            return
        fh = self.files.get(key)
        if fh is None:
            name = "_".join(str(k) for k in key) + ".part"
            fh = self.files[key] = open(self.dir / name, "w", encoding="utf-8", buffering=1 << 20)
        else:
            fh.write(",")
        fh.write(dumps(buf)[1:-1])
        self.counts[key] += len(buf)
        buf.clear()

    def count(self, key: tuple) -> int:
        return self.counts.get(key, 0) + len(self.buffers.get(key, ()))

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()

    def copy_into(self, key: tuple, out: TextIO) -> None:
        if key in self.buffers:
            self._flush(key)
        fh = self.files.get(key)
        if fh is None:
            return
        fh.close()
        with open(fh.name, encoding="utf-8") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        os.unlink(fh.name)


def _company_keys(company: dict) -> Iterable[str]:
    for cls in UNICONTA_CLASSES:
        if cls in PROJECT_CLASSES and not company["ProjectModule"]:
            continue
        yield cls


def assemble_dict(sink: ListSink, head: dict) -> dict:
    """``head`` = {"auth", "users", "companies" (attrs only), "_meta"}."""
    tl: dict[str, Any] = {"auth": head["auth"]}
    for coll in TIMELOG_COLLECTIONS:
        tl[coll] = sink.items(("timelog", coll))
    companies = []
    for attrs in head["companies"]:
        comp = dict(attrs)
        for cls in _company_keys(attrs):
            comp[cls] = sink.items(("uniconta", attrs["CompanyId"], cls))
        companies.append(comp)
    return {"timelog": tl, "uniconta": {"users": head["users"], "companies": companies}, "_meta": head["_meta"]}


def assemble_file(sink: FileSink, head: dict, out: TextIO) -> None:
    w = out.write
    w('{"timelog":{"auth":' + dumps(head["auth"]))
    for coll in TIMELOG_COLLECTIONS:
        w(f',"{coll}":[')
        sink.copy_into(("timelog", coll), out)
        w("]")
    w('},"uniconta":{"users":' + dumps(head["users"]) + ',"companies":[')
    for i, attrs in enumerate(head["companies"]):
        w("," if i else "")
        w(dumps(attrs)[:-1])  # the company attributes, object left open
        for cls in _company_keys(attrs):
            w(f',"{cls}":[')
            sink.copy_into(("uniconta", attrs["CompanyId"], cls), out)
            w("]")
        w("}")
    w(']},"_meta":' + dumps(head["_meta"]) + "}\n")


def temp_dir_near(path: Path) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=".fixture-", dir=path.parent)

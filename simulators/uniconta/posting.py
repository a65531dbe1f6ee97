""""Post the drafts as an accountant would": turn ``DebtorOrderClient`` + ``DebtorOrderLineClient`` drafts into
posted ``DebtorInvoiceClient`` + ``DebtorInvoiceLines`` (the simulator's stand-in for ``InvoiceAPI.PostInvoice``),
optionally editing one draft line first so that reconciliation (rule U3) has a real difference to find.

Computation (all in ``Decimal``, rounded half-up to the cent, stored as JSON numbers):
- line net = Qty × (Price − Discount) × (1 − DiscountPct/100); gross = Qty × Price; NetDiscount = gross − net.
- VAT rate of a line: the line's ``Vat`` code in ``GLVatClient`` (``Rate`` in percent); else 0 when the debtor's
  ``VatZone`` is not ``Domestic`` (EU, Abroad, VatFree); else the order's/debtor's ``Vat`` code; else 25 %.
  With ``PricesInclVat`` the line amount includes VAT and the VAT part is taken out of it.
- header: ``LineAmount`` = Σ line net; ``NetAmount`` = LineAmount × (1 − EndDiscountPct/100);
  ``VatAmount`` = Σ line VAT × (1 − EndDiscountPct/100); ``TotalAmount`` = NetAmount + VatAmount;
  ``AmountLocalCur`` = TotalAmount × ExchangeRate for a foreign-currency order with a rate, else TotalAmount.
  Credit notes are simply drafts with negative quantities (negative totals).
- ``InvoiceNumber``: the company's number series, max(existing) + 1 (first invoice: 1).
- ``Date``: the request's ``date``, else the order's ``InvoiceDate``, else today (UTC).
- ``DueDate``: Date + the payment term's ``Days`` (order's ``Payment``, else the debtor's; ``EndOfMonth`` counts
  from the end of the month); without a term, the invoice date.
- Refused drafts stay drafts and are reported under ``skipped`` with a reason: no lines (``NoLinesFound``), unknown
  debtor (``AccountIsMissing``), or a project without a project category (rule S5, ``PrCategory`` required).
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .errors import UnicontaError, bad_request
from .odata import parse_datetime
from .store import Company, Store, coerce, line_net, money, q2, to_json_number

DEFAULT_VAT_PCT = Decimal(25)
HEADER_COPY = ("Currency", "ExchangeRate", "EndDiscountPct", "Employee", "YourRef", "OurRef", "Requisition", "Remark",
               "Project", "PrCategory", "ContactName", "ContactRef", "LayoutGroup", "Vat", "PricesInclVat",
               "DeliveryName", "DeliveryAddress1", "DeliveryAddress2", "DeliveryAddress3", "DeliveryZipCode",
               "DeliveryCity", "DeliveryCountry", "DeliveryAccount", "Dimension1", "Dimension2", "Dimension3",
               "Dimension4", "Dimension5")
LINE_COPY = ("Item", "Text", "Unit", "DiscountPct", "CostPrice", "Project", "PrCategory", "Task", "WorkSpace",
             "Employee", "PostingAccount", "Warehouse", "Location", "Dimension1", "Dimension2", "Dimension3",
             "Dimension4", "Dimension5")


def _domestic(zone: Any) -> bool:
    return zone in (None, "", 0, "0", "Domestic")


def _due(inv_date: date, term: dict | None) -> date:
    if not term:
        return inv_date
    start = inv_date
    if term.get("EndOfMonth"):
        start = inv_date.replace(day=calendar.monthrange(inv_date.year, inv_date.month)[1])
    return start + timedelta(days=int(term.get("Days") or 0))


def post_drafts(store: Store, company: Company, options: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        orders_t = store.table(company, "DebtorOrderClient")
        lines_t = store.table(company, "DebtorOrderLineClient")
        inv_t = store.table(company, "DebtorInvoiceClient")
        invl_t = store.table(company, "DebtorInvoiceLines")
        vat_t = company.tables.get("GLVatClient")
        debtors = company.tables.get("DebtorClient")
        terms = company.tables.get("PaymentTermClient")

        wanted = options.get("orders")
        if wanted is not None and not isinstance(wanted, list):
            raise bad_request("post-drafts: 'orders' must be a list of OrderNumbers")
        selected = [o for o in orders_t.rows.values()
                    if wanted is None or o.get("OrderNumber") in {int(w) for w in wanted}]
        selected.sort(key=lambda o: o["OrderNumber"])
        order_nos = {o["OrderNumber"] for o in selected}
        lines_by_order: dict[int, list[dict]] = {}
        for ln in lines_t.rows.values():
            if ln.get("OrderNumber") in order_nos:
                lines_by_order.setdefault(ln["OrderNumber"], []).append(ln)
        for lst in lines_by_order.values():
            lst.sort(key=lambda r: (r.get("LineNumber") or 0, r["RowId"]))

        edited = _apply_edit(store, company, lines_t, lines_by_order, options)

        default_date = None
        if options.get("date"):
            try:
                default_date = parse_datetime(str(options["date"])).date()
            except ValueError:
                raise bad_request(f"post-drafts: bad date {options['date']!r}") from None

        next_no = max((r.get("InvoiceNumber") or 0 for r in inv_t.rows.values()), default=0) + 1
        posted: list[dict] = []
        skipped: list[dict] = []
        for order in selected:
            ono = order["OrderNumber"]
            lines = lines_by_order.get(ono, [])
            debtor = debtors.find((order.get("Account"),)) if debtors else None
            reason = None
            if not lines:
                reason = ("NoLinesFound", "the draft has no lines")
            elif debtor is None:
                reason = ("AccountIsMissing", f"debtor {order.get('Account')!r} does not exist")
            else:
                for ln in lines:
                    project = ln.get("Project") or order.get("Project")
                    if project and not (ln.get("PrCategory") or order.get("PrCategory")):
                        reason = ("FieldCannotBeBlank", f"line {ln.get('LineNumber')} is on project "
                                  f"{project!r} but has no project category "
                                  f"(PrCategory is required, rule S5)")
                        break
            if reason:
                skipped.append({"OrderNumber": ono, "code": reason[0], "reason": reason[1]})
                continue
            assert debtor is not None
            inv_date = default_date
            if inv_date is None and order.get("InvoiceDate"):
                inv_date = parse_datetime(order["InvoiceDate"]).date()
            if inv_date is None:
                inv_date = store.clock().date()
            zone = debtor.get("VatZone")
            incl = bool(order.get("PricesInclVat"))

            def rate_of(code: Any) -> Decimal | None:
                if code and vat_t is not None:
                    v = vat_t.find((code,))
                    if v is not None:
                        return money(v.get("Rate"))
                return None

            header_rate = rate_of(order.get("Vat"))
            if header_rate is None:
                header_rate = rate_of(debtor.get("Vat"))
            inv_lines: list[dict] = []
            line_sum = vat_sum = cost_sum = Decimal(0)
            for ln in lines:
                net = line_net(ln)
                rate = rate_of(ln.get("Vat"))
                if rate is None:
                    rate = (Decimal(0) if not _domestic(zone)
                            else header_rate if header_rate is not None else DEFAULT_VAT_PCT)
                if incl:
                    vat = q2(net * rate / (Decimal(100) + rate))
                    net = net - vat
                else:
                    vat = q2(net * rate / Decimal(100))
                qty, price = money(ln.get("Qty")), money(ln.get("Price"))
                gross = q2(qty * price)
                cost = q2(qty * money(ln.get("CostPrice")))
                line_sum += net
                vat_sum += vat
                cost_sum += cost
                row: dict[str, Any] = {
                    "DCAccount": order["Account"], "InvoiceNumber": next_no, "OrderNumber": ono,
                    "LineNumber": ln.get("LineNumber"), "Date": inv_date.isoformat(),
                    "InvoiceQty": to_json_number(qty), "SalesPrice": to_json_number(price),
                    "GrossAmount": to_json_number(gross),
                    "NetDiscount": to_json_number(gross - net - (vat if incl else 0)),
                    "InvoiceNetAmount": to_json_number(net), "InvoiceTotal": to_json_number(net),
                    "AmountInclVat": to_json_number(net + vat), "CostValue": to_json_number(cost),
                    "Margin": to_json_number(net - cost),
                }
                for f in LINE_COPY:
                    if ln.get(f) not in (None, ""):
                        row[f] = ln[f]
                if ln.get("Vat"):
                    row["Vat"] = ln["Vat"]
                currency = order.get("Currency") or debtor.get("Currency")
                if currency:
                    row["Currency"] = currency
                inv_lines.append(row)
            edp = money(order.get("EndDiscountPct"))
            factor = Decimal(1) - edp / Decimal(100)
            net_amount = q2(line_sum * factor)
            vat_amount = q2(vat_sum * factor)
            total = net_amount + vat_amount
            currency = order.get("Currency") or debtor.get("Currency")
            rate = money(order.get("ExchangeRate"))
            foreign = currency and currency != company.attrs.get("Currency") and rate > 0
            term = None
            pay = order.get("Payment") or debtor.get("Payment")
            if pay and terms is not None:
                term = terms.find((pay,))
            header: dict[str, Any] = {
                "InvoiceNumber": next_no, "Account": order["Account"],
                "Name": order.get("Name") or debtor.get("Name", ""), "Date": inv_date.isoformat(),
                "OrderNumber": ono, "LineAmount": to_json_number(line_sum), "NetAmount": to_json_number(net_amount),
                "VatAmount": to_json_number(vat_amount), "TotalAmount": to_json_number(total),
                "AmountLocalCur": to_json_number(total * rate if foreign else total),
                "CostValue": to_json_number(cost_sum), "SalesValue": to_json_number(net_amount),
                "Margin": to_json_number(net_amount - cost_sum),
                "DueDate": _due(inv_date, term).isoformat(),
            }
            if pay:
                header["Payment"] = pay
            if order.get("Created"):
                header["OrderCreated"] = order["Created"]
            for f in HEADER_COPY:
                if order.get(f) not in (None, "") and f not in header:
                    header[f] = order[f]
            if currency:
                header["Currency"] = currency

            inv_row = _add(store, inv_t, header)
            line_rows = [_add(store, invl_t, r) for r in inv_lines]
            for ln in lines:
                lines_t.remove(ln["RowId"])
            orders_t.remove(order["RowId"])
            posted.append({"invoice": inv_row, "lines": line_rows})
            next_no += 1
        return {"company": company.id, "posted": posted, "skipped": skipped, "edited": edited}


def _add(store: Store, table: Any, row: dict) -> dict:
    norm = store._normalise(table, row, from_wire=False)
    norm["RowId"] = table.next_row_id
    norm = store._ordered(norm, table.schema.keys)
    table.add(norm)
    return norm


def _apply_edit(store: Store, company: Company, lines_t: Any, lines_by_order: dict[int, list[dict]],
                options: dict[str, Any]) -> dict | None:
    """Edit one draft line before posting (``edit_line`` exact, or ``edit_random_line`` seeded)."""
    edit = options.get("edit_line")
    rnd = options.get("edit_random_line")
    target: dict | None = None
    changes: dict | None = None
    if edit:
        if not isinstance(edit, dict) or "order" not in edit:
            raise bad_request("post-drafts: edit_line needs {'order': OrderNumber, 'line': LineNumber, "
                              "'changes': {...}}")
        try:
            ono = int(edit["order"])
        except (TypeError, ValueError):
            raise bad_request("post-drafts: edit_line.order must be an OrderNumber") from None
        lines = lines_by_order.get(ono)
        if not lines:
            raise UnicontaError(404, "CouldNotFind", f"post-drafts: no draft lines for order {ono} in company "
                                f"{company.id}")
        if edit.get("line") is None:
            target = lines[0]
        else:
            target = next((ln for ln in lines if str(ln.get("LineNumber")) == str(edit["line"])), None)
            if target is None:
                raise UnicontaError(404, "CouldNotFind", f"post-drafts: order {ono} has no line {edit['line']}")
        changes = edit.get("changes")
    elif rnd:
        opts = rnd if isinstance(rnd, dict) else {}
        rng = random.Random(opts.get("seed", options.get("seed", 0)))
        candidates = [ln for lst in sorted(lines_by_order.items()) for ln in lst[1]]
        if not candidates:
            return None
        target = rng.choice(candidates)
        changes = opts.get("changes")
    if target is None:
        return None
    if not changes:
        price = money(target.get("Price"))
        changes = {"Price": to_json_number(price * Decimal("1.10")) if price else 100.0}
    if not isinstance(changes, dict):
        raise bad_request("post-drafts: 'changes' must be an object of field → value")
    before = {k: target.get(k) for k in changes}
    new = dict(target)
    for k, v in changes.items():
        if k in ("RowId", "OrderNumber", "LineNumber"):
            raise bad_request(f"post-drafts: {k} cannot be edited")
        try:
            v = coerce(lines_t.schema, k, v)
        except ValueError as exc:
            raise bad_request(f"post-drafts: field {k}: {exc}") from None
        if v is None:
            new.pop(k, None)
        else:
            new[k] = v
    store._computed(lines_t, new)
    lines_t.replace(target["RowId"], new)
    lst = lines_by_order[target["OrderNumber"]]
    lst[lst.index(target)] = new
    return {"OrderNumber": target["OrderNumber"], "LineNumber": target.get("LineNumber"),
            "before": before, "after": {k: new.get(k) for k in changes}}

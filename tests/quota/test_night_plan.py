"""The night's Uniconta calls planned by priority (issue 13, item 5): a pure allocation from the planned needs and
the calls left — invoices first, then master data in run order — and the one line the summary shows up front."""

from __future__ import annotations

from tlsync.quota.plan import Need, allocate

CUSTOMERS = Need("customers", 30, 40, "customer/contact record(s)")
PROJECTS = Need("projects", 20, 1_900, "project(s)")
INVOICES = Need("invoices", 300, 14_000, "invoice(s)", first=True)


def test_everything_fits_and_the_reserve_is_what_the_invoices_need():
    plan = allocate([CUSTOMERS, PROJECTS, INVOICES], 5_000, floor=100)
    assert plan.fits and plan.budgets == {"invoices": 300, "customers": 30, "projects": 20}
    assert plan.reserve() == 300, "the planned invoices, not only the fixed floor"
    assert plan.line() == ("planned 350 Uniconta calls, 5,000 left today: all fit "
                           "(customers 30, projects 20, invoices 300)")


def test_the_floor_stays_a_floor_and_an_override():
    assert allocate([CUSTOMERS, PROJECTS, INVOICES], 5_000, floor=1_000).reserve() == 1_000
    assert allocate([CUSTOMERS, PROJECTS, INVOICES], 5_000, floor=0).reserve() == 300
    # the floor is held for the invoices before master data is served, even when their plan is smaller
    plan = allocate([CUSTOMERS, PROJECTS, INVOICES], 340, floor=320)
    assert plan.budgets == {"invoices": 300, "customers": 20, "projects": 0}


def test_when_the_plan_does_not_fit_invoices_go_first_and_master_data_waits():
    plan = allocate([CUSTOMERS, PROJECTS, INVOICES], 335, floor=0)
    assert not plan.fits
    assert plan.budgets == {"invoices": 300, "customers": 30, "projects": 5}
    assert [(n.step, items) for n, items in plan.waiting()] == [("projects", 1_425)]   # 15 of 20 calls short
    assert plan.line() == ("planned 350 Uniconta calls, 335 left today: invoices first, 1,425 project(s) wait for "
                           "the next night (customers 30, projects 20, invoices 300)")


def test_too_few_calls_even_for_the_invoices():
    plan = allocate([CUSTOMERS, PROJECTS, INVOICES], 150, floor=1_000)
    assert plan.budgets == {"invoices": 150, "customers": 0, "projects": 0}
    assert plan.line().startswith("planned 350 Uniconta calls, 150 left today: invoices first, 7,000 invoice(s) and "
                                  "40 customer/contact record(s) and 1,900 project(s) wait for the next night")


def test_nothing_left_and_nothing_planned():
    assert allocate([CUSTOMERS, INVOICES], -5).budgets == {"invoices": 0, "customers": 0}
    empty = allocate([], 10)
    assert empty.fits and empty.planned == 0 and empty.reserve() == 0

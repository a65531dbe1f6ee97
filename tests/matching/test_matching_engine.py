"""The column-wise engine (rule L1 at 100k × 100k) gives exactly what the one-record functions give.

The batch normalisers, the array scorer and the view assignment are rewrites of the one-value / one-pair code for
speed; these tests hold them to the same answers on messy hand-made values and on the generator's linkage data.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from simulators.generator.linkage import linkage
from tlsync.matching import columns as C
from tlsync.matching import match_customers
from tlsync.matching import normalize as N
from tlsync.matching.blocking import (
    Index,
    customer_columns,
    debtor_columns,
    prepare_customer,
    prepare_debtor,
)
from tlsync.matching.scoring import P_CANDIDATE, compare_pairs, score_pair, score_pairs

PIECES = ["Hansen", "Byg", "ÆRØ", "ærø", "Åbyhøj", "Müller", "Straße", "ẞ", "é", "ﬁ", "ſ", "İ", "K", "Å", "😀",
          "<b>x</b>", "' OR 1=1", "&", "+", "/", ".", ",", "-", " ", "  ", "\t", "\r", "\u00a0", "\u2028", "A/S",
          "ApS", "a s", "A.S.", "I/S", "K/S", "P/S", "IVS", "Aktieselskab", "aktieselskabet", "g.m.b.h.",
          "A.M.B.A.", "Ltd", "Inc.", "b.v.", "DK", "dk", "0045", "+45", "(+45)", "12345678", "13585628", "010042",
          "@", "info@hansen.dk", "x@gmail.com", ">", "١", "²", "0", "00"]


def _odd_values(seed: int, n: int = 3000) -> list[object]:
    rng = random.Random(seed)
    values: list[object] = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 7))) for _ in range(n)]
    return values + [None, 0, 4711, "", " ", "A/S", "Hansen A/S", "x" * 300, "DK13585628", " 1358-5628 "]


BATCH = [
    (C.parse_names, lambda vs: ([N.parse_name(v)[0] for v in vs], [N.parse_name(v)[1] for v in vs])),
    (C.norm_phones, lambda vs: [N.norm_phone(v) for v in vs]),
    (C.cvr_digits_many, lambda vs: [N.cvr_digits(v) for v in vs]),
    (C.email_domains, lambda vs: [N.email_domain(v) for v in vs]),
    (C.norm_zips, lambda vs: [N.norm_zip(v) for v in vs]),
    (C.norm_numbers, lambda vs: [N.norm_number(v) for v in vs]),
]


@pytest.mark.parametrize("batch,one", BATCH, ids=[b.__name__ for b, _ in BATCH])
def test_batch_normalisers_equal_the_one_value_functions(batch, one) -> None:
    odd = _odd_values(11)
    ascii_only = [v for v in _odd_values(12) if isinstance(v, str) and v.isascii()]
    emails = [f"{a}@{b}" for a, b in zip(_odd_values(13), _odd_values(14))]
    for values in (odd, ascii_only, emails, [], ["A/S"], ["line\nbreak A/S", "Hansen ApS"], ("tuple", None)):
        assert batch(values) == one(values), values[:5]


def test_cvr_valid_many_equals_cvr_valid() -> None:
    rng = random.Random(3)
    digits = [str(rng.randint(10_000_000, 99_999_999)) for _ in range(3000)] + ["", "01234567", "13585628"]
    assert C.cvr_valid_many(digits) == [N.cvr_valid(d) for d in digits]
    odd = ["1234567", "123456789", "１２３４５６７８", "abcdefgh", ""]
    assert C.cvr_valid_many(odd) == [N.cvr_valid(d) for d in odd]


def test_legal_forms_are_stripped_from_the_end_only_and_a_bare_form_stays() -> None:
    names, forms = C.parse_names(["Hansen A/S ApS", "A/S", "as as", "AS Hansen", "Hansen A.M.B.A.", "x a m b a s"])
    assert names == ["hansen", "a s", "as", "as hansen", "hansen", "x a m b"]
    assert forms == ["aps", "", "as", "", "amba", "as"]


@pytest.fixture(scope="module")
def sample():
    debtors, customers, truth = linkage(1500, 5)
    return debtors, customers, truth


def test_array_scorer_equals_score_pair_on_every_candidate_pair(sample) -> None:
    debtors, customers, _ = sample
    D, C = debtor_columns(debtors), customer_columns(customers)
    index = Index(C)
    d, c = index.exact_pairs(D)
    fd, fc = index.fuzzy_pairs(D, np.arange(D.n))
    d, c = np.r_[d, fd], np.r_[c, fc]
    assert len(d) > 2000
    scores, model = score_pairs(D, C, index, d, c)
    objects = scores.scored(np.arange(len(d)), D, C)
    for k, got in enumerate(objects):
        want = score_pair(prepare_debtor(debtors[d[k]]), prepare_customer(customers[c[k]]), index, model)
        assert (got.customer_id, got.score, got.name_similarity, got.reasons, got.same_tax_no, got.same_number) == \
               (want.customer_id, want.score, want.name_similarity, want.reasons, want.same_tax_no, want.same_number)
        assert got.probability == pytest.approx(want.probability, abs=1e-6)


def test_model_is_learned_from_the_data_and_weighs_rare_values_more(sample) -> None:
    debtors, customers, _ = sample
    model = match_customers(debtors, customers).model
    direct, board = "+4591919191", "+4592929292"
    group = [dict(c, Phone=board) for c in customers[1:5]]            # a switchboard shared by four customers
    index = Index(customer_columns([dict(customers[0], Phone=direct)] + group + customers[5:]))
    line = score_pair(prepare_debtor({"Account": "x", "Name": "Noget Helt Andet ApS", "Phone": direct}),
                      prepare_customer(dict(customers[0], Phone=direct)), index, model)
    shared = score_pair(prepare_debtor({"Account": "x", "Name": "Noget Helt Andet ApS", "Phone": board}),
                        prepare_customer(group[0]), index, model)
    assert "phone equal" in line.reasons and "phone equal (shared by 4 TimeLog customers)" in shared.reasons
    assert line.score >= shared.score + 2, "a switchboard shared by a group says less than a direct line"
    # m is learned: the same CVR is common among true pairs, and rare among random ones (u)
    m, u = model.m["tax"][0], model.describe()["tax"][0][1]
    assert m > 0.5 and u < 1e-3 and 0.5 < model.twin_share < 1


def test_every_suggestion_is_explained_by_score_pair(sample) -> None:
    debtors, customers, _ = sample
    res = match_customers(debtors, customers)
    index = Index(customer_columns(customers))
    by_id = {c["ID"]: c for c in customers}
    shown = 0
    for row in res.rows:
        for cand in row.candidates:
            want = score_pair(prepare_debtor(row.debtor), prepare_customer(by_id[cand.customer_id]), index, res.model)
            assert (cand.score, cand.reasons) == (want.score, want.reasons)
            assert cand.probability >= P_CANDIDATE
            shown += 1
        assert [x.probability for x in row.candidates] == sorted((x.probability for x in row.candidates),
                                                                  reverse=True)
    assert shown > 1000


def test_reasons_lists_are_not_shared_between_suggestions(sample) -> None:
    debtors, customers, _ = sample
    res = match_customers(debtors[:200], customers)
    lists = [c.reasons for r in res.rows for c in r.candidates]
    assert len({id(x) for x in lists}) == len(lists)


def test_the_letter_bound_never_undercuts_the_name_similarity() -> None:
    # compare_pairs(levels_only=True) skips cpdist for random pairs whose letters keep them below 0.7: the bound
    # must hold for every pair, single- or many-token, repeated letters, digits, one letter in common or none
    from rapidfuzz.fuzz import ratio, token_sort_ratio

    from tlsync.matching.levels import similarity_bound as _similarity_bound
    rng = random.Random(21)
    words = ["hansen", "byg", "nord", "lys", "aa", "x", "a1", "1234", "consult", "aps", "zz", "bygge", "sen"]
    names = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(4000)]
    a = names[:2000] + ["abc", "abc def", "x" * 300, "ab ab", "hansen"]
    b = names[2000:] + ["cba", "def abc", "x" * 299, "ba ba", "hansen"]
    bound = _similarity_bound(a, b)
    sims = [max(ratio(x, y), token_sort_ratio(x, y)) / 100 for x, y in zip(a, b)]
    assert all(s <= bd + 1e-9 for s, bd in zip(sims, bound))
    assert bound[-1] == 1.0 and bound[-4] == 1.0, "the same letters: no bound below 1"
    assert np.array_equal(_similarity_bound(a, b, chunk=7), bound), "counted in chunks: the same bound"
    assert (bound < 0.7).any() and (bound >= 0.7).any()


def test_levels_only_gives_the_same_levels_for_random_pairs(sample) -> None:
    debtors, customers, _ = sample
    D, C_ = debtor_columns(debtors), customer_columns(customers)
    index = Index(C_)
    rng = np.random.default_rng(4)
    d, c = rng.integers(0, D.n, 20_000), rng.integers(0, C_.n, 20_000)
    full, lean = compare_pairs(D, C_, index, d, c), compare_pairs(D, C_, index, d, c, levels_only=True)
    for k in ("tax", "phone", "number", "domain", "name", "form", "zip"):
        assert (getattr(full, k) == getattr(lean, k)).all(), k

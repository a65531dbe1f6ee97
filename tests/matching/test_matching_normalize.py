"""Normalisers behind rule L1: CVR/VAT, phone, name, legal form, e-mail domain."""

from __future__ import annotations

import pytest

from tlsync.matching import (
    cvr_digits,
    email_domain,
    legal_form,
    name_core,
    norm_cvr,
    norm_name,
    norm_number,
    norm_phone,
    norm_vat,
    norm_zip,
)

VALID = "13585628"  # valid mod-11


@pytest.mark.parametrize("raw", [VALID, "DK" + VALID, "dk" + VALID, "DK 13 58 56 28", "13 58 56 28", " 1358-5628 "])
def test_cvr_with_and_without_dk_prefix_and_spaces(raw: str) -> None:
    assert norm_cvr(raw) == VALID
    assert norm_vat(raw) == "DK" + VALID


def test_invalid_cvr_checksum_is_not_a_key_but_keeps_its_digits() -> None:
    broken = VALID[:-1] + "9"
    assert norm_cvr(broken) == "" and norm_vat(broken) == ""
    assert cvr_digits("DK " + broken) == broken
    assert norm_cvr("") == norm_cvr(None) == norm_cvr("1234") == ""


def test_foreign_vat_numbers() -> None:
    assert norm_vat("DE 136 695 976") == "DE136695976"     # valid German VAT
    assert norm_vat("123456789MVA") == "123456789MVA"       # unknown to stdnum: compact form kept
    assert norm_vat("12") == ""


@pytest.mark.parametrize("raw", ["+45 12 34 56 78", "12345678", "0045-1234 5678", "12 34 56 78", "+4512345678",
                                 "(+45) 12345678", "1234 5678"])
def test_danish_phones_in_mixed_formats_agree(raw: str) -> None:
    assert norm_phone(raw) == "+4512345678"


def test_foreign_and_junk_phones() -> None:
    assert norm_phone("+49 301 2345678") == "+493012345678"
    assert norm_phone("") == norm_phone(None) == norm_phone("n/a") == norm_phone("12") == ""


@pytest.mark.parametrize("a,b", [
    ("Hansen Byg A/S", "HANSEN BYG AKTIESELSKAB"), ("Ærø Consult ApS", "Aeroe Consult Anpartsselskab"),
    ("Jensen & Søn", "Jensen og Soen"), ("Hansen Byg, ApS", "hansen byg aps"), ("Århus Él-Service I/S", "aarhus el service")])
def test_names_fold_case_accents_aeoeaa_punctuation_and_legal_form(a: str, b: str) -> None:
    assert norm_name(a) == norm_name(b)
    assert name_core(a) == name_core(b)


def test_legal_forms_are_recognised_and_distinguished() -> None:
    assert legal_form("Hansen A/S") == legal_form("Hansen Aktieselskab") == legal_form("Hansen A.S.") == "as"
    assert legal_form("Hansen ApS") == legal_form("Hansen Anpartsselskab") == legal_form("Hansen IVS") == "aps"
    assert legal_form("Hansen K/S") == "ks" and legal_form("Hansen P/S") == "ps" and legal_form("Hansen I/S") == "is"
    assert legal_form("Hansen") == ""
    assert norm_name("A/S") == "a s"      # a bare legal form is not stripped to nothing


def test_typo_names_stay_close_but_not_equal() -> None:
    from tlsync.matching.scoring import name_similarity
    assert norm_name("Nordlys Consulting ApS") != norm_name("Nordyls Consulting ApS")
    assert name_similarity(norm_name("Nordlys Consulting ApS"), norm_name("Nordyls Consulting ApS")) >= 0.9


def test_small_keys() -> None:
    assert norm_number(" 010042 ") == "10042" and norm_number("K-100") == "k-100"
    assert email_domain("Info@Hansen.DK") == "hansen.dk" and email_domain("x@gmail.com") == "" == email_domain("x")
    assert norm_zip("211 20") == "21120"


def test_fast_paths_agree_with_stdnum_and_phonenumbers() -> None:
    import random

    import phonenumbers
    from stdnum.dk import cvr as stdnum_cvr

    from tlsync.matching.normalize import _parse_phone, cvr_valid
    rng = random.Random(5)
    for _ in range(3000):
        digits = str(rng.randint(10_000_000, 99_999_999))
        assert cvr_valid(digits) == stdnum_cvr.is_valid(digits), digits
        for fmt in ("{}", "+45 {}", "0045{}", "(+45) {}"):
            raw = fmt.format(digits)
            assert norm_phone(raw) == _parse_phone(raw, "DK"), raw
    assert phonenumbers.is_possible_number(phonenumbers.parse("+4512345678"))

"""Which currencies exist in Uniconta.

Uniconta's currencies are not records a company creates but a fixed enumeration (``Uniconta.Common.Currencies``,
the ISO 4217 codes); a company uses one as its own currency and any other with an exchange rate. TimeLog's own
integration does not create currencies ("make sure that all the currencies used in TimeLog are created in
Uniconta"), so an invoice in a currency Uniconta does not know is refused with a clear reason (rule T2) — before
a call is spent — instead of failing inside a batch.
"""

from __future__ import annotations

ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""".split())
"""The ISO 4217 currency codes — the members of Uniconta's ``Currencies`` enumeration."""


def uniconta_currency(code: str | None, company_currency: str | None) -> tuple[str | None, str | None]:
    """``(value for DebtorOrderClient.Currency, error)``: the company's own currency is left blank (Uniconta
    reads blank as the company currency), a foreign one is sent as its code, an unknown one is an error."""
    cur = (code or "").strip().upper()
    own = (company_currency or "DKK").strip().upper()
    if not cur:
        return None, "the invoice has no currency (CurrencyAbb is blank)"
    if cur == own:
        return None, None
    if cur not in ISO_4217:
        return None, (f"currency {cur} does not exist in Uniconta; create it there (tlsync does not create "
                      f"currencies) and retry")
    return cur, None

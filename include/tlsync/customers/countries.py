"""Countries between the two systems: TimeLog's ISO-numeric ``CountryID`` (and its Danish country name) ⇄
Uniconta's ``CountryCode`` enum member name.

Why a table: TimeLog shows the country in the user's language ("Danmark", "Tyskland") with an ISO 3166 numeric id
(208, 276), Uniconta serves the ``CountryCode`` member name ("Denmark", "Germany"); the official mapping only says
"Uniconta country is retrieved from customer country". The id is the reliable key; the Danish and English names
are accepted as fall-backs when a record carries a name but no id. A country that is not in the table is simply
not transferred (the field is left as it is on the other side) — never guessed.
"""

from __future__ import annotations

# (ISO numeric, Uniconta CountryCode member, Danish name as TimeLog shows it)
_COUNTRIES: tuple[tuple[int, str, str], ...] = (
    (208, "Denmark", "Danmark"),
    (304, "Greenland", "Grønland"),
    (234, "FaroeIslands", "Færøerne"),
    (752, "Sweden", "Sverige"),
    (578, "Norway", "Norge"),
    (246, "Finland", "Finland"),
    (352, "Iceland", "Island"),
    (276, "Germany", "Tyskland"),
    (528, "Netherlands", "Holland"),
    (56, "Belgium", "Belgien"),
    (442, "Luxembourg", "Luxembourg"),
    (250, "France", "Frankrig"),
    (724, "Spain", "Spanien"),
    (620, "Portugal", "Portugal"),
    (380, "Italy", "Italien"),
    (40, "Austria", "Østrig"),
    (756, "Switzerland", "Schweiz"),
    (616, "Poland", "Polen"),
    (203, "CzechRepublic", "Tjekkiet"),
    (348, "Hungary", "Ungarn"),
    (233, "Estonia", "Estland"),
    (428, "Latvia", "Letland"),
    (440, "Lithuania", "Litauen"),
    (372, "Ireland", "Irland"),
    (826, "UnitedKingdom", "Storbritannien"),
    (840, "UnitedStates", "USA"),
    (124, "Canada", "Canada"),
    (36, "Australia", "Australien"),
    (156, "China", "Kina"),
    (392, "Japan", "Japan"),
    (356, "India", "Indien"),
)

_BY_ID = {iso: member for iso, member, _ in _COUNTRIES}
_ID_BY_MEMBER = {member.casefold(): iso for iso, member, _ in _COUNTRIES}
_ID_BY_NAME = {**{da.casefold(): iso for iso, _, da in _COUNTRIES}, **_ID_BY_MEMBER,
               "united kingdom": 826, "england": 826, "united states": 840, "nederlandene": 528}


def uniconta_country(country_id: object = None, name: object = None) -> str | None:
    """The Uniconta ``CountryCode`` member of a TimeLog country (by id, else by name), or ``None`` if unknown."""
    iso = timelog_country_id(name) if country_id in (None, "", 0, "0") else _as_int(country_id)
    return _BY_ID.get(iso) if iso is not None else None


def timelog_country_id(value: object) -> int | None:
    """The ISO-numeric ``CountryID`` of a Uniconta member name or a TimeLog country name, or ``None``."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value in _BY_ID else None
    text = str(value).strip().casefold()
    return _ID_BY_NAME.get(text) or _ID_BY_MEMBER.get(text.replace(" ", ""))


def _as_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None

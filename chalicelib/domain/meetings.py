"""British and Irish race meetings and greyhound tracks, so free text can tell a course from a horse's name."""

from __future__ import annotations

import re

RACECOURSES = (
    "Aintree", "Ascot", "Ayr", "Bangor-on-Dee", "Bath", "Beverley", "Brighton", "Carlisle", "Cartmel",
    "Catterick", "Chelmsford City", "Cheltenham", "Chepstow", "Chester", "Doncaster", "Epsom", "Exeter",
    "Fakenham", "Ffos Las", "Fontwell", "Goodwood", "Hamilton", "Haydock", "Hereford", "Hexham", "Huntingdon",
    "Kelso", "Kempton", "Leicester", "Lingfield", "Ludlow", "Market Rasen", "Musselburgh", "Newbury",
    "Newcastle", "Newmarket", "Newton Abbot", "Nottingham", "Perth", "Plumpton", "Pontefract", "Redcar",
    "Ripon", "Salisbury", "Sandown", "Sedgefield", "Southwell", "Stratford", "Taunton", "Thirsk", "Towcester",
    "Uttoxeter", "Warwick", "Wetherby", "Wincanton", "Windsor", "Wolverhampton", "Worcester", "Yarmouth", "York",
    # Ireland
    "Ballinrobe", "Bellewstown", "Clonmel", "Cork", "Curragh", "Down Royal", "Downpatrick", "Dundalk",
    "Fairyhouse", "Galway", "Gowran Park", "Kilbeggan", "Killarney", "Laytown", "Leopardstown", "Limerick",
    "Listowel", "Naas", "Navan", "Punchestown", "Roscommon", "Sligo", "Thurles", "Tipperary", "Tramore", "Wexford",
)  # fmt: skip

# Greyhound-only tracks (Towcester, Doncaster, Newcastle, Nottingham and Yarmouth race both, listed above).
GREYHOUND_TRACKS = (
    "Central Park", "Crayford", "Harlow", "Henlow", "Hove", "Kinsley", "Monmore", "Oxford", "Pelaw Grange",
    "Perry Barr", "Poole", "Romford", "Sheffield", "Suffolk Downs", "Sunderland", "Swindon", "The Valley",
    "Shelbourne Park", "Shelbourne",
)  # fmt: skip

ALIASES = {
    "Bangor": "Bangor-on-Dee", "Chelmsford": "Chelmsford City", "Epsom Downs": "Epsom",
    "Fontwell Park": "Fontwell", "Great Yarmouth": "Yarmouth", "Haydock Park": "Haydock",
    "Kempton Park": "Kempton", "Lingfield Park": "Lingfield", "Sandown Park": "Sandown",
    "Stratford-on-Avon": "Stratford", "Stratford-upon-Avon": "Stratford", "The Curragh": "Curragh",
    "Newton Abbott": "Newton Abbot", "Wolves": "Wolverhampton", "Monmore Green": "Monmore",
    "Valley": "The Valley",
}  # fmt: skip


def _key(name: str) -> str:
    return re.sub(r"[\s\-']+", " ", name.lower()).strip()


_BY_KEY: dict[str, str] = {_key(n): n for n in (*RACECOURSES, *GREYHOUND_TRACKS)}
_BY_KEY.update({_key(alias): name for alias, name in ALIASES.items()})
_GREYHOUND_ONLY = frozenset(GREYHOUND_TRACKS)
MAX_WORDS = max(len(k.split()) for k in _BY_KEY)


def meeting_named(text: str) -> str | None:
    """'kempton park' → 'Kempton'; None when the words are not a known meeting."""
    return _BY_KEY.get(_key(text))


def is_greyhound_track(meeting: str) -> bool:
    return meeting in _GREYHOUND_ONLY

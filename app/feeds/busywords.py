"""Busy-state words that Outlook and Exchange write as event subjects.

When a calendar is published with "Can view when I'm busy" (availability
only), Exchange replaces every subject with the event's free/busy state in
the *publisher's* language: "Busy", "Beschäftigt", "Zaneprázdněn(a)"… The
words differ between Outlook versions too (older German Outlook wrote
"Gebucht", newer writes "Beschäftigt"), so each status lists every spelling
we know of. Google's free/busy-only sharing writes "Busy" the same way.

Matching is done on a normalised form (``normalise``): case-folded, accents
stripped, gender markers such as "(a)" or "/a" removed. The list does not
need to be complete: ``diagnose`` also recognises the structure of an
availability-only feed, so an unlisted language is still caught.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from app.feeds.types import BusyStatus

# language -> status -> spellings. Keep spellings as Outlook shows them.
BUSY_WORDS: Mapping[str, Mapping[BusyStatus, tuple[str, ...]]] = {
    "en": {
        "BUSY": ("Busy",),
        "TENTATIVE": ("Tentative",),
        "FREE": ("Free",),
        "OOF": ("Away", "Out of Office", "Out of the Office"),
        "WORKINGELSEWHERE": ("Working Elsewhere", "Working elsewhere"),
    },
    "de": {
        "BUSY": ("Beschäftigt", "Gebucht"),
        "TENTATIVE": ("Mit Vorbehalt", "Vorläufig"),
        "FREE": ("Frei",),
        "OOF": ("Abwesend", "Außer Haus", "Nicht im Büro"),
        "WORKINGELSEWHERE": ("An anderem Ort tätig", "Woanders tätig"),
    },
    "cs": {
        "BUSY": ("Zaneprázdněn(a)", "Zaneprázdněn", "Zaneprázdněna", "Obsazeno"),
        "TENTATIVE": ("Předběžně", "Nezávazně"),
        "FREE": ("Volno", "Volný", "Volná"),
        "OOF": ("Mimo kancelář", "Nepřítomen", "Nepřítomna"),
        "WORKINGELSEWHERE": ("Pracuje jinde", "Pracuji jinde", "Práce jinde"),
    },
    "sk": {
        "BUSY": ("Zaneprázdnený", "Zaneprázdnená", "Obsadené"),
        "TENTATIVE": ("Predbežne", "Nezáväzne"),
        "FREE": ("Voľno", "Voľný", "Voľná"),
        "OOF": ("Mimo kancelárie", "Mimo pracoviska", "Neprítomný", "Neprítomná"),
        "WORKINGELSEWHERE": ("Pracuje inde", "Pracujem inde", "Práca inde"),
    },
    "sv": {
        "BUSY": ("Upptagen",),
        "TENTATIVE": ("Preliminär", "Preliminärt"),
        "FREE": ("Ledig",),
        "OOF": ("Frånvarande", "Borta", "Inte på kontoret"),
        "WORKINGELSEWHERE": ("Arbetar någon annanstans", "Arbetar på annan plats"),
    },
    "lt": {
        "BUSY": ("Užimtas", "Užimta", "Užimtas (-a)"),
        "TENTATIVE": ("Preliminarus", "Preliminariai", "Preliminari"),
        "FREE": ("Laisvas", "Laisva"),
        "OOF": ("Ne biure", "Išvykęs", "Išvykusi", "Nėra"),
        "WORKINGELSEWHERE": ("Dirba kitur", "Dirbu kitur", "Dirbama kitur"),
    },
    "ro": {
        "BUSY": ("Ocupat", "Ocupată"),
        "TENTATIVE": ("Tentativ", "Provizoriu", "Provizoriu acceptat"),
        "FREE": ("Liber", "Liberă", "Disponibil"),
        "OOF": ("Absent", "Plecat", "În afara biroului"),
        "WORKINGELSEWHERE": ("Lucrează în altă parte", "Lucrez în altă parte"),
    },
    "pl": {
        "BUSY": ("Zajęty", "Zajęta", "Zajęte"),
        "TENTATIVE": ("Wstępnie zaakceptowane", "Wstępnie", "Wstępny", "Niepewne"),
        "FREE": ("Wolny", "Wolna", "Wolne"),
        "OOF": ("Poza biurem", "Nieobecny", "Nieobecna"),
        "WORKINGELSEWHERE": (
            "Praca w innym miejscu",
            "Pracuje w innym miejscu",
            "Pracuję w innym miejscu",
        ),
    },
    "fr": {
        "BUSY": ("Occupé(e)", "Occupé", "Occupée"),
        "TENTATIVE": ("Provisoire",),
        "FREE": ("Libre", "Disponible"),
        "OOF": ("Absent(e)", "Absent", "Absente", "Absent du bureau"),
        "WORKINGELSEWHERE": ("Travaille ailleurs", "Travail ailleurs", "Travail à l'extérieur"),
    },
    "es": {
        "BUSY": ("Ocupado", "Ocupado/a", "Ocupada"),
        "TENTATIVE": ("Provisional", "Tentativo"),
        "FREE": ("Disponible", "Libre"),
        "OOF": ("Fuera de la oficina", "Ausente"),
        "WORKINGELSEWHERE": ("Trabajando en otro lugar", "Trabajando en otra parte"),
    },
    "it": {
        "BUSY": ("Occupato", "Occupato/a", "Occupata"),
        "TENTATIVE": ("Provvisorio", "Per conferma", "Da confermare"),
        "FREE": ("Libero", "Libera", "Disponibile"),
        "OOF": ("Fuori sede", "Fuori ufficio", "Assente"),
        "WORKINGELSEWHERE": ("Lavoro altrove", "Lavora altrove", "Lavoro in altra sede"),
    },
    "nl": {
        "BUSY": ("Bezet",),
        "TENTATIVE": ("Onder voorbehoud", "Voorlopig"),
        "FREE": ("Beschikbaar", "Vrij"),
        "OOF": ("Afwezig", "Buiten kantoor", "Niet op kantoor"),
        "WORKINGELSEWHERE": ("Elders aan het werk", "Werkt elders", "Werkt ergens anders"),
    },
    "pt": {
        "BUSY": ("Ocupado", "Ocupado(a)", "Ocupada"),
        "TENTATIVE": ("Provisório", "Tentativa", "Tentativo"),
        "FREE": ("Livre", "Disponível"),
        "OOF": ("Fora do escritório", "Ausente"),
        "WORKINGELSEWHERE": (
            "Trabalhando em outro lugar",
            "Trabalhando em outro local",
            "A trabalhar noutro local",
        ),
    },
}

# Subjects Exchange and Outlook use for items whose owner marked them private.
PRIVATE_WORDS: tuple[str, ...] = (
    "Private Appointment",
    "Private",
    "Privater Termin",
    "Privat",
    "Rendez-vous privé",
    "Privé",
    "Cita privada",
    "Privado",
    "Appuntamento privato",
    "Privato",
    "Privéafspraak",
    "Soukromá schůzka",
    "Soukromé",
    "Prywatne",
)

# "(a)", "(e)", "(-a)" and "/a" after a word mark the feminine form.
_GENDER_MARKER = re.compile(r"\s*(\(\s*-?\w{1,3}\s*\)|/\w{1,3})\s*$")
_SPACES = re.compile(r"\s+")
# NFKD leaves a few letters whole; map them so "Zajęty" and "Zajety" meet.
_UNDECOMPOSED = str.maketrans("łøđı", "lodi")


def normalise(text: str) -> str:
    """Case-fold, strip accents and gender markers, collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate(_UNDECOMPOSED)
    plain = _GENDER_MARKER.sub("", plain.strip())
    return _SPACES.sub(" ", plain).strip(" .")


def _build_index() -> dict[str, BusyStatus]:
    index: dict[str, BusyStatus] = {}
    for by_status in BUSY_WORDS.values():
        for status, spellings in by_status.items():
            for spelling in spellings:
                index[normalise(spelling)] = status
    return index


_INDEX: dict[str, BusyStatus] = _build_index()
_PRIVATE: frozenset[str] = frozenset(normalise(word) for word in PRIVATE_WORDS)


# Busy-state and private words are short; a longer subject is none of them.
# Checked before normalising, which walks every character: a hostile feed's
# multi-megabyte SUMMARY would otherwise cost seconds per look.
MAX_WORD_TEXT = 100


def busy_status_of(summary: str) -> BusyStatus | None:
    """The free/busy state a subject names, or None if it is not a busy word."""
    if len(summary) > MAX_WORD_TEXT:
        return None
    return _INDEX.get(normalise(summary))


def is_private_subject(summary: str) -> bool:
    """True for subjects Exchange writes in place of a private item's title."""
    return len(summary) <= MAX_WORD_TEXT and normalise(summary) in _PRIVATE

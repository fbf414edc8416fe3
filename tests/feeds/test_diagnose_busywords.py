"""Busy-state words: every language the brief names, normalised matching, no clashes."""

from __future__ import annotations

import pytest

from app.feeds.busywords import BUSY_WORDS, busy_status_of, is_private_subject, normalise

LANGUAGES = {"en", "cs", "sk", "de", "sv", "lt", "ro", "pl", "fr", "es", "it", "nl", "pt"}
STATES = {"BUSY", "TENTATIVE", "FREE", "OOF", "WORKINGELSEWHERE"}


def test_every_language_names_every_state() -> None:
    assert set(BUSY_WORDS) >= LANGUAGES
    for language, states in BUSY_WORDS.items():
        assert set(states) == STATES, language
        assert all(states[s] for s in STATES), language


def test_no_word_means_two_different_states() -> None:
    seen: dict[str, str] = {}
    for states in BUSY_WORDS.values():
        for state, words in states.items():
            for word in words:
                key = normalise(word)
                assert seen.setdefault(key, state) == state, word


@pytest.mark.parametrize(
    ("subject", "state"),
    [
        ("Busy", "BUSY"),
        ("  busy ", "BUSY"),
        ("Beschäftigt", "BUSY"),
        ("BESCHAFTIGT", "BUSY"),
        ("Zaneprázdněn(a)", "BUSY"),
        ("Zaneprazdnena", "BUSY"),
        ("Occupé(e)", "BUSY"),
        ("Ocupado/a", "BUSY"),
        ("Zajęty", "BUSY"),
        ("Mit Vorbehalt", "TENTATIVE"),
        ("Předběžně", "TENTATIVE"),
        ("Frei", "FREE"),
        ("Volno", "FREE"),
        ("Away", "OOF"),
        ("Out of Office", "OOF"),
        ("Mimo kancelář", "OOF"),
        ("Fuera de la oficina", "OOF"),
        ("An anderem Ort tätig", "WORKINGELSEWHERE"),
        ("Pracuje jinde", "WORKINGELSEWHERE"),
        ("Travaille ailleurs", "WORKINGELSEWHERE"),
        ("Užimtas", "BUSY"),
        ("Ocupat", "BUSY"),
        ("Bezet", "BUSY"),
        ("Upptagen", "BUSY"),
    ],
)
def test_busy_status_of_recognises_outlook_words(subject: str, state: str) -> None:
    assert busy_status_of(subject) == state


@pytest.mark.parametrize(
    "subject", ["Busy week review", "Free lunch talk", "Standup", "", "Varattu"]
)
def test_ordinary_subjects_are_not_busy_words(subject: str) -> None:
    assert busy_status_of(subject) is None


def test_private_subjects() -> None:
    assert is_private_subject("Private Appointment")
    assert is_private_subject("Privater Termin")
    assert not is_private_subject("Private banking workshop")

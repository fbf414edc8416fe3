"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import ValidationError

_hasher = PasswordHasher()  # argon2id with the library's current defaults

MIN_LENGTH = 10

# The most common passwords of breach lists; a policy that allows these is no policy.
COMMON = frozenset(
    {
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd",
        "123456789",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "qwerty123",
        "qwerty1234",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "welcome1234",
        "admin12345",
        "administrator",
        "abc1234567",
        "football123",
        "monkey12345",
        "dragon1234",
        "sunshine123",
        "princess123",
        "trustno1234",
        "baseball123",
        "superman123",
        "0987654321",
        "1111111111",
        "0000000000",
        "123123123123",
        "zaq12wsxcde",
        "changeme123",
        "timepulse123",
    }
)


# Breach lists are full of one common word dressed up with digits and
# symbols ("Password2024!", "P@ssw0rd123", "qwerty12345"): such a password
# is as common as the word.
COMMON_WORDS = frozenset(
    {
        "password", "qwerty", "qwertyuiop", "letmein", "welcome", "iloveyou", "admin",
        "administrator", "monkey", "dragon", "football", "baseball", "sunshine", "princess",
        "superman", "batman", "trustno", "changeme", "timepulse", "master", "shadow", "hello",
        "login", "starwars", "whatever", "freedom", "secret", "abc", "qazwsx", "asdfgh",
    }
)  # fmt: skip
# Runs along the keyboard or the alphabet: "1234567890", "qwertyuiop", "abcdefghij".
SEQUENCES = (
    "01234567890123456789",
    "98765432109876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiopasdfghjklzxcvbnm",
    "1q2w3e4r5t6y7u8i9o0p",
    "1qaz2wsx3edc4rfv5tgb6yhn",
)
_LEET = str.maketrans("@4310$5!7", "aaeiossit")
_DECORATION = "0123456789!@#$%^&*()-_=+.,;:?~ "


def is_common(lowered: str) -> bool:
    """True for a (lower-cased) password from the top of breach lists, a common
    word with digits or symbols around it, a keyboard run, or one short unit
    repeated ("abcabcabcabc")."""
    if lowered in COMMON or len(set(lowered)) < 4:
        return True
    core = lowered.strip(_DECORATION)
    if {core, core.translate(_LEET), lowered.translate(_LEET).strip(_DECORATION)} & COMMON_WORDS:
        return True
    if any(lowered in run for run in SEQUENCES):
        return True
    return any(
        len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered
        for size in range(1, len(lowered) // 2 + 1)
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_policy(password: str, email: str) -> None:
    """Raise ValidationError with a useful message when ``password`` is weak."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            f"Use at least {MIN_LENGTH} characters — a short sentence is easy to remember.",
            field="password",
        )
    lowered = password.lower()
    local_part = email.split("@", 1)[0].lower()
    if lowered == email.lower() or (len(local_part) >= 4 and local_part in lowered):
        raise ValidationError("Don't use your e-mail address in your password.", "password")
    if is_common(lowered):
        raise ValidationError(
            "That password is among the most common ones; choose something less guessable.",
            field="password",
        )

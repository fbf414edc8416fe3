"""The password policy, through the sign-up form: each weak password is
refused with a reason and creates nothing; ordinary strong ones pass."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.security import tally

SHORT = "at least 10 characters"
EMAIL = "e-mail address"
COMMON = "most common"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "Choose a password"),
        ("tiny", SHORT),
        ("nine char", SHORT),
        ("lovelace@example.com", EMAIL),
        ("Lovelace-2026-xyz", EMAIL),
        ("password123", COMMON),
        ("Password2024!", COMMON),
        ("P@ssw0rd!2024", COMMON),
        ("qwerty12345", COMMON),
        ("2024welcome!", COMMON),
        ("Trustno1!!!!", COMMON),
        ("1234567890", COMMON),
        ("abcdefghijkl", COMMON),
        ("qwertyuiopas", COMMON),
        ("zzzzzzzzzzzz", COMMON),
        ("abcabcabcabc", COMMON),
        ("passwordpassword", COMMON),
    ],
)
def test_a_weak_password_is_refused_with_its_reason(app, client, password, reason):
    from app.extensions import db
    from app.models import User

    response = client.post("/signup", data={"email": "lovelace@example.com", "password": password})

    tally.observe(response, "weak password at sign-up", expected=(200,))
    assert response.status_code == 200  # the form again, with the reason
    assert reason in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "xk3-plum-orbit-7", "monkeybusiness42", "Tea at 5 in Brno"],
)
def test_an_ordinary_strong_password_is_accepted(client, password):
    response = client.post("/signup", data={"email": "lovelace@example.com", "password": password})
    assert response.status_code == 302

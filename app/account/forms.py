"""Forms of the account page. Each one that changes something asks for the password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

_CURRENT = "Enter your current password."


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired(_CURRENT)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password."), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired("Type the new password again.")],
        render_kw={"autocomplete": "new-password"},
    )


class EmailForm(FlaskForm):
    email = EmailField(
        "New e-mail address",
        validators=[
            DataRequired("Enter the new e-mail address."),
            Email("That does not look like an e-mail address."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(_CURRENT)],
        render_kw={"autocomplete": "current-password"},
    )


class DeleteForm(FlaskForm):
    password = PasswordField(
        "Password",
        validators=[DataRequired(_CURRENT)],
        render_kw={"autocomplete": "current-password"},
    )

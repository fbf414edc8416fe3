"""Sign-up and log-in forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail", validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class SignupForm(FlaskForm):
    email = EmailField(
        "E-mail",
        validators=[
            DataRequired("Enter your e-mail address."),
            Email("That does not look like an e-mail address."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Choose a password."), Length(max=200)]
    )
    # Filled by static/app.js from the browser's time zone; validated in the view.
    timezone = HiddenField(render_kw={"data-browser-zone": ""})

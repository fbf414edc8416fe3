"""Profile form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ProfileForm(FlaskForm):
    timezone = StringField("Time zone", validators=[DataRequired("Choose your time zone.")])
    week_start = SelectField(
        "Week starts on",
        choices=[SelectChoice(str(i), d) for i, d in enumerate(WEEKDAYS)],
        default="0",
    )
    rounding_minutes = SelectField(
        "Round tracked impulses to",
        choices=[
            SelectChoice("0", "no rounding"),
            SelectChoice("5", "5 minutes"),
            SelectChoice("6", "6 minutes"),
            SelectChoice("10", "10 minutes"),
            SelectChoice("15", "15 minutes"),
        ],
        default="0",
    )
    rounding_mode = SelectField(
        "Rounding",
        choices=[SelectChoice("nearest", "to the nearest"), SelectChoice("up", "always up")],
        default="nearest",
    )

"""The project form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class ProjectForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the project a name."), Length(max=120)]
    )
    client = StringField("Client (optional)", validators=[Optional(), Length(max=120)])
    colour = StringField(
        "Colour",
        default="#4f6df5",
        # A native colour picker where the browser has one; a text box otherwise.
        render_kw={"type": "color"},
        validators=[Regexp(r"^#[0-9a-fA-F]{6}$", message="Pick a colour like #4f6df5.")],
    )
    billable_default = BooleanField("Billable by default")

"""Forms for calendar feeds: add (check, then save) and edit."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional, Regexp

_COLOUR = Regexp(r"^#[0-9a-fA-F]{6}$", message="Pick a colour like #2f855a.")


class FeedForm(FlaskForm):
    """Add a feed. ``url`` is what the user pasted; after a check it comes back hidden."""

    url = StringField(
        "Calendar link (ICS)",
        validators=[Optional(), Length(max=4096)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
    )
    # Required when saving (checked by the domain), not for "Check link".
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    colour = StringField(
        "Colour", default="#2f855a", render_kw={"type": "color"}, validators=[Optional(), _COLOUR]
    )
    import_from = DateField("Import events from (optional)", validators=[Optional()])


class FeedEditForm(FeedForm):
    """Edit a feed: an empty link keeps the current one."""

    url = StringField(
        "New calendar link (leave empty to keep the current one)",
        validators=[Optional(), Length(max=4096)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
    )

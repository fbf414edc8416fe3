"""Forms of the impulse pages: the project rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.impulses.rules import MAX_PATTERN
from app.models import Project


class RuleForm(FlaskForm):
    field = SelectField(
        "When the",
        choices=[SelectChoice(name, name) for name in ("subject", "location", "organizer")],
        default="subject",
    )
    operator = SelectField(
        "Test",
        choices=[
            SelectChoice("contains", "contains"),
            SelectChoice("matches", "matches (regular expression)"),
        ],
        default="contains",
    )
    pattern = StringField(
        "Text or pattern",
        validators=[
            DataRequired("Enter the text to look for."),
            Length(max=MAX_PATTERN, message=f"Keep the pattern under {MAX_PATTERN} characters."),
        ],
    )
    # Checked against the user's own projects by the service, which says so in words.
    project = SelectField("suggest the project", choices=[], validate_choice=False)

    def set_projects(self, projects: list[Project]) -> None:
        self.project.choices = [SelectChoice("", "— choose —")] + [
            SelectChoice(str(p.id), p.name) for p in projects
        ]

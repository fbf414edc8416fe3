"""The time entry form: start and end, or start and duration, in the user's zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app import timeutil
from app.entries.service import MAX_ENTRY_LENGTH, EntryInput
from app.errors import ValidationError
from app.models import Project, TimeEntry

if TYPE_CHECKING:
    from app.impulses.rules import ListedProject


def _project_choices(
    projects: Sequence[Project | ListedProject], with_client: bool = False
) -> list[SelectChoice]:
    def label(p: Project | ListedProject) -> str:
        # Only a Project has a client: the timer's ListedProject choices leave it out.
        return p.name + (
            f" ({p.client})" if with_client and isinstance(p, Project) and p.client else ""
        )

    # data-billable lets app.js tick "Billable" when a billable project is picked.
    return [SelectChoice("", "— no project —")] + [
        SelectChoice(str(p.id), label(p), render_kw={"data-billable": int(p.billable_default)})
        for p in projects
    ]


HHMM = Regexp(r"^\d{1,2}:\d{2}$", message="Use HH:MM, e.g. 09:30.")


class EntryForm(FlaskForm):
    day = DateField("Date", validators=[DataRequired("Pick the date.")])
    start = StringField("Start", validators=[DataRequired("Enter the start time."), HHMM])
    end = StringField("End", validators=[Optional(), HHMM])
    end_day = DateField("End date (if another day)", validators=[Optional()])
    duration = StringField("or duration", validators=[Optional(), Length(max=16)])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    # The choice is checked against the user's own projects by the service,
    # which says so in words ("Choose one of your own projects").
    project = SelectField("Project", choices=[], validators=[Optional()], validate_choice=False)
    billable = BooleanField("Billable")

    def set_projects(self, projects: list[Project], current: Project | None = None) -> None:
        """Offer active projects, plus the entry's own project if it is archived."""
        if current is not None and current not in projects:
            projects = [*projects, current]
        self.project.choices = _project_choices(projects, with_client=True)

    def fill(self, entry: TimeEntry, tz: ZoneInfo) -> None:
        """Prefill from an entry, in the user's zone."""
        start = entry.start.astimezone(tz)
        self.day.data, self.start.data = start.date(), start.strftime("%H:%M")
        if entry.end is not None:
            end = entry.end.astimezone(tz)
            self.end.data = end.strftime("%H:%M")
            self.end_day.data = end.date() if end.date() != start.date() else None
        self.description.data = entry.description
        self.project.data = str(entry.project_id or "")
        self.billable.data = entry.billable

    def to_input(self, tz: ZoneInfo, running: bool = False) -> EntryInput:
        """The entry the form describes; ValidationError when it is inconsistent.

        ``running`` (editing the running timer) lets the end stay empty.
        """
        day = self.day.data.isoformat()
        start = timeutil.parse_local(day, self.start.data or "", tz)
        end = self._end(start, tz)
        if end is None and not running:
            raise ValidationError("Enter an end time or a duration.", field="end")
        if end is not None and end <= start:
            raise ValidationError(
                "The end is before the start. For an entry past midnight, set the end date.",
                field="end",
            )
        if end is not None and end - start > MAX_ENTRY_LENGTH:
            raise ValidationError("An entry can last at most a week.", field="end")
        return EntryInput(
            start=start,
            end=end,
            description=self.description.data or "",
            project_id=self._project_id(),
            billable=bool(self.billable.data),
        )

    def _end(self, start: datetime, tz: ZoneInfo) -> datetime | None:
        if self.end.data:
            end_day = (self.end_day.data or self.day.data).isoformat()
            return timeutil.parse_local(end_day, self.end.data, tz)
        if self.duration.data:
            return start + timeutil.parse_duration(self.duration.data)
        return None

    def _project_id(self) -> int | None:
        raw = (self.project.data or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ValidationError("Choose one of your own projects.", field="project")
        return int(raw)


class TimerForm(FlaskForm):
    description = StringField("What are you working on?", validators=[Length(max=2000)])
    project = SelectField("Project", choices=[], validators=[Optional()], validate_choice=False)

    def set_projects(self, projects: list[Project]) -> None:
        self.project.choices = _project_choices(projects)


@dataclass(frozen=True)
class TimerCard:
    """What the dashboard's timer form shows of ``TimerForm``: its labels, its limit
    and the user's projects, without binding a form on every view (binding one with
    its CSRF field costs 0.05 ms). The card never shows submitted values or errors:
    a failed start redirects back to it with a message."""

    description_label: str
    description_maxlength: int
    project_label: str
    choices: list[SelectChoice]


def timer_card(projects: Sequence[Project | ListedProject]) -> TimerCard:
    description, project = TimerForm.description, TimerForm.project
    (length,) = [v for v in description.kwargs["validators"] if isinstance(v, Length)]
    return TimerCard(description.args[0], length.max, project.args[0], _project_choices(projects))

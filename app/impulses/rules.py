"""The user's project rules: "subject contains 'Standup' → Internal", in order.

A rule tests one field of an occurrence (subject, location, organizer)
with "contains" (case-insensitive substring) or "matches" (a regular
expression, searched case-insensitively). The first rule that fits wins.

Patterns come from users and run on every panel view, so "matches" is
guarded: at most ``MAX_PATTERN`` characters, it must compile, nested
quantifiers such as ``(a+)+`` (the classic catastrophic-backtracking shape)
are refused, and the text searched is capped at ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa

from app.errors import ValidationError
from app.extensions import db
from app.models import Occurrence, Project, Rule
from app.projects.service import owned_project_id

FIELDS = {"subject": "summary", "location": "location", "organizer": "organizer"}
FIELD_LABELS = {"subject": "subject", "location": "location", "organizer": "organizer"}
OPERATORS = ("contains", "matches")
MAX_PATTERN = 200
MAX_TEXT = 500

# A group that ends in a quantifier and is itself quantified: (a+)+, (x*)*, (a{2,}){3}.
_NESTED_QUANTIFIER = re.compile(r"[+*}?]\)[+*{]")


def user_rules(user_id: int) -> list[Rule]:
    """The user's rules in order, projects loaded."""
    return list(db.session.scalars(_rules_select(), {"user_id": user_id}))


@cache
def _rules_select() -> sa.Select[tuple[Rule]]:
    # Built once per process: building a query and its SQL cache key costs
    # more than running this one.
    return (
        sa.select(Rule)
        .options(sa.orm.joinedload(Rule.project))
        .where(Rule.user_id == sa.bindparam("user_id"))
        .order_by(Rule.position, Rule.id)
    )


@dataclass(slots=True)
class ListedProject:
    """What the dashboard reads of a project: the timer's choices and the rules' suggestions."""

    id: int
    name: str
    colour: str
    billable_default: bool
    archived: bool


@dataclass(slots=True)
class ListedRule:
    """What suggestions read of a rule (``first_fitting``, ``describe``)."""

    id: int
    position: int
    field: str
    operator: str
    pattern: str
    project_id: int
    project: ListedProject


_PROJECT_COLUMNS = (Project.id, Project.name, Project.colour, Project.billable_default)
_RULE_COLUMNS = (Rule.id, Rule.position, Rule.field, Rule.operator, Rule.pattern)


def projects_and_rules(user_id: int) -> tuple[list[ListedProject], list[ListedRule]]:
    """``user_projects(user_id)`` and the rules that can suggest one of them, in one query.

    The rules come in their order with their projects; rules of archived projects
    are left out (``first_fitting`` never picks them). Plain rows through the
    connection, not ORM objects through the session, whose ORM path cost more
    than the query (about 0.1 ms a view); pages that change rules load ``Rule``.
    """
    projects: list[ListedProject] = []
    rules: list[ListedRule] = []
    rows = db.session.connection().execute(_projects_and_rules_select(), {"user_id": user_id})
    for project_id, name, colour, billable, rule_id, *rule in rows:
        if not projects or projects[-1].id != project_id:
            projects.append(ListedProject(project_id, name, colour, billable, False))
        if rule_id is not None:
            rules.append(ListedRule(rule_id, *rule, project_id, projects[-1]))
    rules.sort(key=lambda rule: (rule.position, rule.id))
    return projects, rules


@cache
def _projects_and_rules_select() -> sa.Select[Any]:
    # The projects as ``user_projects`` orders them (names are unique regardless
    # of case), each with its rules: the columns of ``ListedProject`` but
    # ``archived`` (always false here), then of ``ListedRule`` but its project's.
    return (
        sa.select(*_PROJECT_COLUMNS, *_RULE_COLUMNS)
        .outerjoin(
            Rule,
            sa.and_(Rule.project_id == Project.id, Rule.user_id == sa.bindparam("user_id")),
        )
        .where(Project.user_id == sa.bindparam("user_id"), Project.archived.is_(False))
        .order_by(sa.func.lower(Project.name), Project.id)
    )


def validate_pattern(operator: str, pattern: str) -> str:
    """The pattern, stripped; ``ValidationError(field="pattern")`` when unusable."""
    pattern = pattern.strip()
    if not pattern:
        raise ValidationError("Enter the text to look for.", field="pattern")
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(f"Keep the pattern under {MAX_PATTERN} characters.", field="pattern")
    if operator == "matches":
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValidationError(
                f"That is not a valid regular expression: {err.msg}.", field="pattern"
            ) from err
        if _NESTED_QUANTIFIER.search(pattern):
            raise ValidationError(
                "Nested repeats such as (a+)+ can take forever to match; simplify the pattern.",
                field="pattern",
            )
    return pattern


def add_rule(user_id: int, *, field: str, operator: str, pattern: str, project_id: int) -> Rule:
    """A new rule at the end of the user's list. Raises ``ValidationError``."""
    if field not in FIELDS:
        raise ValidationError("Choose subject, location or organizer.", field="field")
    if operator not in OPERATORS:
        raise ValidationError("Choose “contains” or “matches”.", field="operator")
    pattern = validate_pattern(operator, pattern)
    owned = owned_project_id(user_id, project_id)
    if owned is None:
        raise ValidationError("Choose the project this rule suggests.", field="project")
    last = db.session.scalar(sa.select(sa.func.max(Rule.position)).where(Rule.user_id == user_id))
    rule = Rule(
        user_id=user_id,
        field=field,
        operator=operator,
        pattern=pattern,
        project_id=owned,
        position=(last or 0) + 1,
    )
    db.session.add(rule)
    return rule


def move_rule(rule: Rule, direction: str) -> None:
    """Swap ``rule`` with its neighbour above ("up") or below ("down")."""
    rules = user_rules(rule.user_id)
    index = rules.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    for position, each in enumerate(rules, start=1):
        each.position = position


def summary(rule: Rule | ListedRule) -> str:
    """The rule in words: "subject contains 'Standup'"."""
    return f"{FIELD_LABELS.get(rule.field, rule.field)} {rule.operator} '{rule.pattern}'"


def describe(rule: Rule | ListedRule) -> str:
    """The rule as the suggestion's reason: "rule: subject contains 'Standup'"."""
    return f"rule: {summary(rule)}"


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


def rule_fits(rule: Rule | ListedRule, occurrence: Occurrence) -> bool:
    """Whether ``rule`` applies to ``occurrence`` (a broken stored rule never does)."""
    text = str(getattr(occurrence, FIELDS.get(rule.field, "summary"), "") or "")[:MAX_TEXT]
    if rule.operator == "contains":
        return rule.pattern.casefold() in text.casefold()
    compiled = _compiled(rule.pattern)
    return bool(compiled and compiled.search(text))


def first_fitting(
    rules: Sequence[Rule | ListedRule], occurrence: Occurrence
) -> Rule | ListedRule | None:
    """The first rule (in the user's order) whose project is active and that fits."""
    for rule in rules:
        project: Project | ListedProject | None = rule.project
        if project is not None and not project.archived and rule_fits(rule, occurrence):
            return rule
    return None

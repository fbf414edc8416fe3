"""Project workflows."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from app.errors import ValidationError
from app.extensions import db
from app.models import Project


def user_projects(user_id: int, include_archived: bool = False) -> list[Project]:
    return list(db.session.scalars(_projects_select(include_archived), {"user_id": user_id}))


@functools.lru_cache(maxsize=2)
def _projects_select(include_archived: bool) -> sa.Select[tuple[Project]]:
    # Built once per process: building a query and its SQL cache key costs
    # more than running this one.
    query = sa.select(Project).where(Project.user_id == sa.bindparam("user_id"))
    if not include_archived:
        query = query.where(Project.archived.is_(False))
    return query.order_by(Project.archived, sa.func.lower(Project.name))


def save_project(
    project: Project, *, name: str, client: str | None, colour: str, billable_default: bool
) -> Project:
    """Validate and apply fields; a second project with the same name is refused."""
    name = name.strip()
    # Compared here rather than with SQL lower(), which folds only ASCII on
    # SQLite ("Práce" and "PRÁCE" would pass); a user has few project names.
    others = db.session.scalars(
        sa.select(Project.name).where(
            Project.user_id == project.user_id, Project.id != (project.id or 0)
        )
    )
    if any(other.casefold() == name.casefold() for other in others):
        raise name_taken(name)
    project.name, project.client = name, (client or "").strip() or None
    project.colour, project.billable_default = colour.lower(), billable_default
    db.session.add(project)
    return project


def name_taken(name: str) -> ValidationError:
    """The error for a name the user already gave another project."""
    return ValidationError(f"You already have a project called “{name}”.", field="name")


def owned_project_id(user_id: int, raw: str | int | None) -> int | None:
    """Turn a submitted project id into one the user owns, or refuse it."""
    if raw in (None, "", "0", 0):
        return None
    try:
        project_id = int(raw)
    except (TypeError, ValueError):
        project_id = 0
    # Out-of-range ids would be a database error on PostgreSQL, not a 404.
    project = db.session.get(Project, project_id) if 0 < project_id < 2**31 else None
    if project is None or project.user_id != user_id:
        raise ValidationError("Choose one of your own projects.", field="project")
    return project.id

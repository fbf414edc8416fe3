"""Project pages: list, create, edit, archive."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import get_owned
from app.errors import ValidationError
from app.extensions import db
from app.models import Project
from app.projects import bp
from app.projects.forms import ProjectForm
from app.projects.service import name_taken, save_project, user_projects


def _save(form: ProjectForm, project: Project) -> bool:
    try:
        save_project(
            project,
            name=form.name.data or "",
            client=form.client.data,
            colour=form.colour.data or "#4f6df5",
            billable_default=bool(form.billable_default.data),
        )
        db.session.commit()
    except sa.exc.IntegrityError:  # the same name saved meanwhile (a second tab, a double click)
        db.session.rollback()
        form.name.errors.append(name_taken((form.name.data or "").strip()).message)
        return False
    except ValidationError as err:
        db.session.rollback()
        form.name.errors.append(err.message)
        return False
    return True


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | Response | tuple[str, int]:
    form = ProjectForm()
    if form.validate_on_submit() and _save(form, Project(user_id=current_user.id)):
        flash(f"Project “{form.name.data}” created.", "ok")
        return redirect(url_for("projects.index"))
    projects = user_projects(current_user.id, include_archived=True)
    page = render_template("projects/index.html", form=form, projects=projects)
    return (page, 400) if form.errors else page


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int) -> str | Response | tuple[str, int]:
    project = get_owned(Project, project_id)
    form = ProjectForm(obj=project)
    if form.validate_on_submit() and _save(form, project):
        flash("Project saved.", "ok")
        return redirect(url_for("projects.index"))
    page = render_template("projects/edit.html", form=form, project=project)
    return (page, 400) if form.errors else page


@bp.post("/<int:project_id>/archive")
@login_required
def archive(project_id: int) -> Response:
    project = get_owned(Project, project_id)
    project.archived = not project.archived
    db.session.commit()
    flash(f"Project “{project.name}” {'archived' if project.archived else 'restored'}.", "ok")
    return redirect(url_for("projects.index"))

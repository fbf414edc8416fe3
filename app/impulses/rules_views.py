"""Settings → Time Tracking → Rules: which project to suggest for which meeting."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import get_owned
from app.errors import ValidationError
from app.extensions import db
from app.impulses import rules, rules_bp
from app.impulses.forms import RuleForm
from app.models import Rule
from app.projects.service import user_projects


@rules_bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | Response | tuple[str, int]:
    """The ordered rules and a form to add one."""
    form = RuleForm()
    projects = user_projects(current_user.id)
    form.set_projects(projects)
    if request.method == "POST" and form.validate_on_submit():
        try:
            rules.add_rule(
                current_user.id,
                field=form.field.data or "",
                operator=form.operator.data or "",
                pattern=form.pattern.data or "",
                project_id=int(form.project.data) if (form.project.data or "").isdigit() else 0,
            )
            db.session.commit()
        except ValidationError as err:
            db.session.rollback()
            getattr(form, err.field or "pattern", form.pattern).errors.append(err.message)
        else:
            flash("Rule added.", "ok")
            return redirect(url_for("rules.index"))
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "impulses/rules.html",
        form=form,
        rules=rules.user_rules(current_user.id),
        describe=rules.summary,
        has_projects=bool(projects),
    )
    return page, status


@rules_bp.post("/<int:rule_id>/delete")
@login_required
def delete(rule_id: int) -> Response:
    db.session.delete(get_owned(Rule, rule_id))
    db.session.commit()
    flash("Rule deleted.", "ok")
    return redirect(url_for("rules.index"))


@rules_bp.post("/<int:rule_id>/move")
@login_required
def move(rule_id: int) -> Response:
    rule = get_owned(Rule, rule_id)
    direction = request.form.get("direction")
    if direction in ("up", "down"):
        rules.move_rule(rule, direction)
        db.session.commit()
    return redirect(url_for("rules.index", _anchor=f"rule-{rule_id}"))

"""The dashboard's timer form is written out from ``timer_card``, not a bound
``TimerForm``: it must stay the markup WTForms makes, and post what the form reads."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import render_template_string

# The card as it was written from a bound TimerForm.
THROUGH_WTFORMS = """{{ form.hidden_tag() }}
      <div class="field grow">
        <label for="{{ form.description.id }}">{{ form.description.label.text }}</label>
        <input id="{{ form.description.id }}" maxlength="{{ form.description.flags.maxlength }}" name="{{ form.description.name }}" type="text" value="{{ form.description.data or '' }}">
      </div>
      <div class="field ">
        <label for="{{ form.project.id }}">{{ form.project.label.text }}</label>
        <select id="{{ form.project.id }}" name="{{ form.project.name }}">
          {%- for choice in form.project.iter_choices() -%}
          <option{% if choice.render_kw %} data-billable="{{ choice.render_kw['data-billable'] }}"{% endif %}{% if choice.selected %} selected{% endif %} value="{{ choice.value }}">{{ choice.label }}</option>
          {%- endfor -%}
        </select>
      </div>"""  # noqa: E501

TOKEN = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+"')


@pytest.mark.parametrize("csrf", [True, False])
def test_the_timer_form_is_what_wtforms_writes(
    app: Any, client: Any, user_id: int, make_project: Any, csrf: bool
) -> None:
    from app.entries.forms import TimerForm
    from app.extensions import db
    from app.models import Project

    make_project(user_id, "Apollo <&>", billable_default=True)
    make_project(user_id, "Zeus")
    app.config["WTF_CSRF_ENABLED"] = csrf
    page = client.get("/").get_data(as_text=True)
    card = re.search(r'class="row" novalidate>\n      (.*?)\n      <button', page, re.S)
    assert card is not None
    with app.test_request_context("/"):
        form = TimerForm()
        form.set_projects(list(db.session.scalars(db.select(Project).order_by(Project.name))))
        want = render_template_string(THROUGH_WTFORMS, form=form)
    assert ('name="csrf_token"' in want) is csrf
    assert TOKEN.sub(r"\1…", card.group(1)) == TOKEN.sub(r"\1…", want)

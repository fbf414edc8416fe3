// The impulse panel without page reloads. Without this file every action is a
// plain form post answered by a redirect, so nothing here is required.
(function () {
  "use strict";

  var panel = document.querySelector("[data-impulse-panel]");
  if (!panel || !window.fetch || !window.FormData) { return; }
  var live = panel.querySelector("[data-impulse-live]");

  function announce(message) {
    if (!live) { return; }
    // Clear first so the same message twice is announced twice.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message || ""; }, 50);
  }

  function fromHTML(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function focusIn(element) {
    if (!element) { return; }
    var target = element.querySelector("[data-focus]") ||
      element.querySelector("button, a[href], input, select, textarea");
    if (target) { target.focus(); }
  }

  function send(form, extra) {
    var data = new FormData(form);
    Object.keys(extra || {}).forEach(function (name) { data.set(name, extra[name]); });
    return window.fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "X-CSRFToken": data.get("csrf_token") || ""
      }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function replaceRow(form, html) {
    var row = form.closest("[data-impulse-row]");
    var fresh = fromHTML(html);
    if (row && fresh) {
      row.replaceWith(fresh);
      focusIn(fresh);
    }
  }

  function handle(form, result) {
    var body = result.body || {};
    var kind = form.getAttribute("data-impulse-action");
    if (result.status === 409 && body.confirm) {
      if (body.row) { replaceRow(form, body.row); }
      if (window.confirm(body.message)) {
        var again = document.getElementById("impulse-" + body.id);
        var againForm = again && again.querySelector("form[data-impulse-action^='track']");
        if (againForm) { submit(againForm, { confirm: "1" }); }
      } else {
        announce("Not tracked again.");
      }
      return;
    }
    if (kind === "track-all" && body.list) {
      var list = panel.querySelector("[data-impulse-list]");
      var fresh = fromHTML(body.list);
      if (list && fresh) { list.replaceWith(fresh); }
      form.querySelector("button[type=submit]").focus();
    } else if (kind === "resolve" && body.remove) {
      var item = form.closest("[data-change-row]");
      var next = item && (item.nextElementSibling || item.previousElementSibling);
      var section = item && item.closest("[data-impulse-changes]");
      if (item) { item.remove(); }
      if (section && !section.querySelector("[data-change-row]")) {
        section.remove();
        next = null;
      }
      if (next) { focusIn(next); } else { panel.querySelector("h2").setAttribute("tabindex", "-1"); panel.querySelector("h2").focus(); }
    } else if (body.row) {
      replaceRow(form, body.row);
    }
    announce(body.message);
  }

  function submit(form, extra) {
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    send(form, extra).then(function (result) {
      handle(form, result);
    }).catch(function () {
      // Fall back to the plain form: the server answers with a redirect.
      form.submit();
    }).then(function () {
      if (button && document.contains(button)) { button.disabled = false; }
    });
  }

  // On the document, after app.js: a "data-confirm" question answered No has
  // already prevented the default by the time this runs.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-impulse-action]") ||
        !panel.contains(form)) { return; }
    event.preventDefault();
    submit(form);
  });
})();

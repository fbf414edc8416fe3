// Timepulse progressive enhancement. Every page works without this file.
(function () {
  "use strict";

  // Ask before destructive actions (forms marked data-confirm).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Sign-up: start in the browser's time zone (the server checks the name
  // and falls back to UTC, which is also what happens without this script).
  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
    try {
      input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (err) {
      input.value = "";
    }
  });

  // Picking a project sets "Billable" to the project's default; the box
  // stays the user's to change. Without this script it is simply unticked.
  document.addEventListener("change", function (event) {
    var select = event.target;  // options without data-billable leave the box alone
    if (!select.matches || !select.matches("select[name=project]") || !select.form) {
      return;
    }
    var option = select.options[select.selectedIndex];
    var billable = select.form.querySelector("input[name=billable]");
    if (option && billable && option.hasAttribute("data-billable")) {
      billable.checked = option.getAttribute("data-billable") === "1";
    }
  });

  // A live clock for the running timer.
  function tick() {
    document.querySelectorAll(".clock[data-since]").forEach(function (el) {
      var since = new Date(el.getAttribute("data-since"));
      var seconds = Math.max(0, Math.floor((Date.now() - since.getTime()) / 1000));
      var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
      el.textContent = " " + h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();

// Live progress of a feed refresh on the calendar settings pages.
// Without JavaScript the page shows the state it was rendered with and a
// reload shows the new one; this only saves the reload.
(function () {
  "use strict";

  var IN_FLIGHT = ["queued", "fetching", "parsing", "saving"];
  var WORDS = {
    queued: "Refresh: queued…",
    fetching: "Refresh: fetching the calendar…",
    parsing: "Refresh: reading events…",
    saving: "Refresh: saving…",
    done: "Refresh done.",
    error: "Refresh failed."
  };
  var POLL_MS = 1500;
  var GIVE_UP_AFTER = 120; // polls (three minutes)

  function poll(el, left) {
    var url = el.getAttribute("data-feed-status");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        el.setAttribute("data-progress", status.progress);
        el.textContent = WORDS[status.progress] || status.progress;
        if (status.progress === "error" && status.error) {
          el.textContent += " " + status.error;
        }
        if (IN_FLIGHT.indexOf(status.progress) >= 0) {
          if (left > 0) { window.setTimeout(function () { poll(el, left - 1); }, POLL_MS); }
        } else {
          // Show the new events, diagnostics and history.
          window.location.reload();
        }
      })
      .catch(function () { /* offline or logged out: the reload link still works */ });
  }

  document.querySelectorAll("[data-feed-status]").forEach(function (el) {
    if (IN_FLIGHT.indexOf(el.getAttribute("data-progress")) >= 0) {
      window.setTimeout(function () { poll(el, GIVE_UP_AFTER); }, POLL_MS);
    }
  });
})();

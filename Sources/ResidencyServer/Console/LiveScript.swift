/// The console's one script, served from /console/assets/live.js (the Content-Security-Policy allows scripts from
/// the console only, never inline): a migration's page polls its JSON once a second and rewrites the state and the
/// steps table with text nodes, never markup. Without JavaScript the page is the same table, current when loaded,
/// with a link to load it again.
enum LiveScript {
    static let source = """
        "use strict";
        (function () {
          const table = document.querySelector("table[data-live]");
          if (!table) return;
          const url = table.getAttribute("data-live");
          const body = table.querySelector("tbody");
          const state = document.getElementById("migration-state");
          const status = document.getElementById("live-status");
          const actions = document.getElementById("migration-actions");
          const labels = Array.from(table.querySelectorAll("thead th")).map(function (th) { return th.textContent; });
          function say(text) { if (status.textContent !== text) status.textContent = text; }
          function row(step) {
            const tr = document.createElement("tr");
            [step.state, step.phase, step.at, step.detail].forEach(function (text, index) {
              const td = document.createElement("td");
              td.textContent = text;
              td.setAttribute("data-label", labels[index] || "");
              tr.appendChild(td);
            });
            return tr;
          }
          function poll() {
            fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, redirect: "error" })
              .then(function (response) {
                if (!response.ok) throw new Error("status " + response.status);
                return response.json();
              })
              .then(function (data) {
                state.textContent = data.state;
                // Past cutover it can no longer be cancelled: the buttons go (the server refuses them anyway).
                if (actions && !data.cancellable) actions.hidden = true;
                body.replaceChildren.apply(body, data.steps.map(row));
                if (data.finished) { say("Finished: " + data.state + "."); return; }
                say("Updating live.");
                setTimeout(poll, 1000);
              })
              .catch(function (error) { say("Live updates stopped (" + error.message + "); reload the page."); });
          }
          say("Updating live.");
          setTimeout(poll, 500);
        })();
        """
}

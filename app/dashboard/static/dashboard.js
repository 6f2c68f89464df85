/* The dashboard's only script (a file: the Content-Security-Policy allows no inline script or handlers).
 *
 * - Ticks every deadline once a second from the server's remaining time (the phone's clock may be wrong),
 *   in words and colour ("At risk — 4:10 left"); a deadline that is met or resolved does not tick.
 * - On the board, fetches /board/rows every data-refresh seconds and updates the rows in place, and the warnings
 *   above them (no worker, paging failing): an unchanged row is left alone, a changed row is swapped and focus
 *   goes back to the same control; a row being typed in is not touched. The user can pause the updates (WCAG 2.2.1).
 * - Announces politely (one live region) only when a state changes: at risk, breached, acknowledged,
 *   called back, a new incident; never the ticking seconds.
 * - The board's action buttons post in the background and put the confirmation next to the row (in view,
 *   role=status), keeping keyboard focus in the row. Without this script every form still works.
 * - A row's "Add a note" and "Resolve without the customer's agreement" links open their form in the row,
 *   cloned from the page's <template>s; without this script they lead to the incident page's forms.
 */
(function () {
  "use strict";
  var WARN = 300;
  var paused = false;  // the user paused the live updates and the ticking (WCAG 2.2.1 and 2.2.2)
  var bases = new WeakMap();  // countdown element -> Date.now() when its data-remaining was read

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  function clockText(s) {
    var a = Math.abs(s), m = Math.floor(a / 60), r = a % 60;
    return m + ":" + (r < 10 ? "0" : "") + r + (s < 0 ? " overdue" : " left");
  }

  // Past the deadline without a met callback is a breach (the report's one rule), logged yet or not.
  function level(s, breached) {
    if (breached || s < 0) { return "bad"; }
    return s <= WARN ? "warn" : "ok";
  }

  function word(s, breached) {
    if (breached || s < 0) { return "Breached"; }
    return s <= WARN ? "At risk" : "On track";
  }

  function whose(deadline) {
    var row = deadline.closest("tr.incident");
    if (row) { return "Incident " + row.getAttribute("data-reference") + ", " + row.getAttribute("data-name") + ": "; }
    return "This incident: ";
  }

  function tick(quiet) {
    if (paused) { return; }
    var now = Date.now(), said = [];
    var all = document.querySelectorAll(".deadline[data-ticking]");
    for (var k = 0; k < all.length; k++) {
      var d = all[k], c = d.querySelector(".countdown"), w = d.querySelector(".word");
      if (!c || c.hasAttribute("data-connected")) { continue; }
      if (!bases.has(c)) { bases.set(c, now); }
      var s = parseInt(c.getAttribute("data-remaining"), 10) - Math.floor((now - bases.get(c)) / 1000);
      var breached = d.hasAttribute("data-breached"), css = level(s, breached), before = d.getAttribute("data-level");
      c.textContent = clockText(s);
      if (w) { w.textContent = word(s, breached); }
      if (before !== css) {
        ["ok", "warn", "bad"].forEach(function (name) { d.classList.remove(name); c.classList.remove(name); });
        d.classList.add(css);
        c.classList.add(css);
        d.setAttribute("data-level", css);
        // Announce only a change seen while the page is open, never the first reading.
        if (before && !quiet && css !== "ok") {
          said.push(whose(d) + word(s, breached) + (css === "warn" ? ", " + clockText(s) : ""));
        }
      }
    }
    if (said.length) { announce(said.join(". ")); }
  }

  // ---- the board's live rows -------------------------------------------------------------------------
  var box = document.getElementById("board-rows");
  var busy = false, actionsSent = 0;  // a refresh that was under way when an action was sent is stale

  function signature(row) {
    var copy = row.cloneNode(true);
    copy.querySelectorAll(".deadline").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("details").forEach(function (el) { el.removeAttribute("open"); });
    copy.querySelectorAll("form.on-demand").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("[aria-expanded]").forEach(function (el) { el.removeAttribute("aria-expanded"); });
    copy.querySelectorAll(".row-status").forEach(function (el) { el.textContent = ""; el.className = "row-status"; });
    return copy.outerHTML;
  }

  function busyTyping(row) {
    var fields = row.querySelectorAll("textarea, input[type=text]");
    for (var k = 0; k < fields.length; k++) {
      if (fields[k] === document.activeElement || fields[k].value.trim() !== "") { return true; }
    }
    return false;
  }

  function firstControl(row) {
    return row && (row.querySelector(".actions button, .actions a, .actions summary") || row.querySelector("a"));
  }

  function refocus(id, rowId) {
    var active = document.activeElement;
    if (id && active && active.id === id && document.contains(active)) { return; }
    var target = (id && document.getElementById(id)) || firstControl(rowId && document.getElementById(rowId));
    if (!target && rowId && (!active || active === document.body || !document.contains(active))) {
      target = document.getElementById("main");  // the row left the board: focus stays on the page, not lost
    }
    if (target) { target.focus({ preventScroll: true }); }
  }

  // The warnings above the rows (no worker, paging failing, unreachable callers) come with each update: one that
  // appeared is put in (a role=alert is read out once), one that cleared is removed, one whose data-key is
  // unchanged is left alone, so it is not read out again every refresh.
  function patchAlerts(fresh) {
    var current = document.getElementById("board-alerts");
    if (!fresh || !current) { return; }
    fresh.remove();
    var keep = {};
    Array.prototype.forEach.call(current.children, function (el) { keep[el.getAttribute("data-key")] = el; });
    var desired = Array.prototype.map.call(fresh.children, function (el) {
      return keep[el.getAttribute("data-key")] || el;
    });
    Array.prototype.slice.call(current.children).forEach(function (el) {
      if (desired.indexOf(el) === -1) { el.remove(); }
    });
    desired.forEach(function (el, index) {
      if (current.children[index] !== el) { current.insertBefore(el, current.children[index] || null); }
    });
  }

  function patch(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var fresh = tpl.content;
    if (!fresh.querySelector("#board-asof")) { return false; }
    var active = document.activeElement, activeId = "", activeRow = "";
    if (active && box.contains(active)) {
      activeId = active.id || "";
      var r = active.closest("tr.incident");
      activeRow = r ? r.id : "";
    }
    var said = [];
    patchAlerts(fresh.querySelector("#board-alerts"));
    box.querySelector("#board-asof").replaceWith(fresh.querySelector("#board-asof"));
    var oldBody = box.querySelector("tbody"), newBody = fresh.querySelector("tbody");
    if (!oldBody || !newBody) {  // the board became empty, or the first incident arrived
      if (newBody) {
        newBody.querySelectorAll("tr.incident").forEach(function (row) {
          said.push("New incident " + row.getAttribute("data-reference") + ", " + row.getAttribute("data-name"));
        });
      }
      var asof = box.querySelector("#board-asof");
      while (asof.nextSibling) { asof.nextSibling.remove(); }
      while (fresh.firstChild) { box.appendChild(fresh.firstChild); }
      tick(true);
      refocus(activeId, activeRow);
      announce(said.join(". "));
      return true;
    }
    var desired = [];
    Array.prototype.forEach.call(newBody.querySelectorAll("tr.incident"), function (row) {
      var old = document.getElementById(row.id);
      if (old && old.parentNode === oldBody && (busyTyping(old) || signature(old) === signature(row))) {
        desired.push(old);
        return;
      }
      if (old) {
        var wasOpen = old.querySelector("details[open]");
        if (wasOpen) { var d = row.querySelector("details"); if (d) { d.setAttribute("open", ""); } }
        old.querySelectorAll("form.on-demand").forEach(function (f) {  // an opened form stays open
          var link = row.querySelector("a[data-opens='" + f.getAttribute("data-kind") + "']");
          if (link) { openForm(link, false); }
        });
        if (old.getAttribute("data-state") !== row.getAttribute("data-state")) {
          said.push("Incident " + row.getAttribute("data-reference") + ", " + row.getAttribute("data-name") + ": " +
                    row.getAttribute("data-state"));
        }
      } else {
        said.push("New incident " + row.getAttribute("data-reference") + ", " + row.getAttribute("data-name"));
      }
      desired.push(row);
    });
    desired.forEach(function (node, index) {
      var at = oldBody.children[index];
      if (at !== node) { oldBody.insertBefore(node, at || null); }
    });
    while (oldBody.children.length > desired.length) { oldBody.lastElementChild.remove(); }
    tick(true);
    refocus(activeId, activeRow);
    announce(said.join(". "));
    return true;
  }

  function refresh() {
    if (!box || busy) { return Promise.resolve(false); }
    busy = true;
    var started = actionsSent;
    return fetch(box.getAttribute("data-board-rows"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/login") !== -1) { window.location.reload(); return ""; }
        return response.ok ? response.text() : "";
      })
      .then(function (html) { return html && started === actionsSent ? patch(html) : false; })
      .catch(function () { return false; })
      .finally(function () { busy = false; });
  }

  function schedule() {
    var seconds = parseInt((box || incident).getAttribute("data-refresh"), 10) || 30;
    window.setInterval(function () {
      if (paused || document.hidden) { return; }
      if (box) { refresh(); } else { refreshIncident(); }
    }, seconds * 1000);
  }

  function setupToggle() {
    var button = document.getElementById("live-toggle");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      paused = !paused;
      button.setAttribute("aria-pressed", paused ? "true" : "false");
      button.textContent = paused ? "Resume live updates" : "Pause live updates";
      announce(paused ? "Live updates paused" : "Live updates resumed");
      if (!paused) { tick(false); if (box) { refresh(); } else { refreshIncident(); } }
    });
  }

  // ---- the incident page: its state, callbacks, pages and timeline follow the server, in place ----------
  var incident = document.getElementById("incident-live");

  function refreshIncident() {
    if (!incident || busy) { return Promise.resolve(false); }
    busy = true;
    return fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/login") !== -1) { window.location.reload(); return ""; }
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        if (!html) { return false; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var said = [];
        ["#state-box", "#deadline-text", "#deadline .actions", "#callbacks", "#pages", "#timeline"].forEach(function (sel) {
          var old = document.querySelector(sel), now = fresh.querySelector(sel);
          if (!old || !now || old.contains(document.activeElement) || busyTyping(old)) { return; }
          if (sel === "#deadline-text" && old.hasAttribute("data-ticking") && now.hasAttribute("data-ticking")) { return; }
          if (sel !== "#deadline-text" && old.outerHTML === now.outerHTML) { return; }
          if (sel === "#deadline-text" && !now.hasAttribute("data-ticking") && !old.hasAttribute("data-ticking")) { return; }
          var before = old.querySelector(".state"), after = now.querySelector(".state");
          if (before && after && before.textContent.trim() !== after.textContent.trim()) {
            said.push("This incident: " + after.textContent.trim());
          }
          old.replaceWith(document.importNode(now, true));
        });
        tick(true);
        announce(said.join(". "));
        return true;
      })
      .catch(function () { return false; })
      .finally(function () { busy = false; });
  }

  function say(reference, messages, focusId) {
    var status = document.getElementById("status-" + reference);
    var text = messages.map(function (m) { return m.text; }).join(" ");
    if (status) {
      status.textContent = text;
      status.className = "row-status flash" + (messages.some(function (m) { return m.error; }) ? " error" : "");
    } else {  // the row left the board (resolved): say it at the top
      var top = document.getElementById("flashes");
      if (top) {
        top.textContent = "";
        messages.forEach(function (m) {
          var p = document.createElement("p");
          p.className = "flash" + (m.error ? " error" : "");
          p.setAttribute("role", m.error ? "alert" : "status");
          p.tabIndex = -1;
          p.textContent = m.text;
          top.appendChild(p);
        });
        if (top.firstChild) { top.firstChild.focus(); }
      }
    }
    announce(text);
    refocus(focusId, "inc-" + reference);
  }

  function onSubmit(event) {
    var form = event.target, button = event.submitter || null;
    if (!form.matches || !form.matches("form[data-action]") || !box || !box.contains(button || form)) { return; }
    event.preventDefault();
    var guard = button || form;  // the rows' buttons share one form: each tap is guarded on its own button
    if (guard.getAttribute("data-sending")) { return; }  // a second tap is ignored while the first is on its way
    guard.setAttribute("data-sending", "1");
    actionsSent += 1;
    var action = (button && button.getAttribute("formaction")) || form.action;
    var actions = guard.closest(".actions"), reference = actions.getAttribute("data-reference");
    var focusId = button ? button.id : (form.querySelector("button") || {}).id || "";
    fetch(action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var rows = page.getElementById("board-rows");
        if (!rows) { throw new Error("not the board"); }
        var messages = Array.prototype.map.call(page.querySelectorAll("#flashes .flash"), function (p) {
          return { text: p.textContent, error: p.classList.contains("error") };
        });
        guard.removeAttribute("data-sending");  // an unchanged row keeps this button: it must work again
        patch(rows.innerHTML);
        say(reference, messages, focusId);
      })
      .catch(function () { guard.removeAttribute("data-sending"); form.action = action; form.submit(); });
  }

  // The note and resolve-with-a-reason forms: cloned into the row from board.html's <template>s when asked for.
  function openForm(link, focus) {
    var kind = link.getAttribute("data-opens"), actions = link.closest(".actions");
    var tpl = document.getElementById("form-" + kind);
    if (!actions || !tpl) { return null; }
    var reference = actions.getAttribute("data-reference"), named = actions.getAttribute("data-named");
    var form = tpl.content.firstElementChild.cloneNode(true);
    form.action = link.pathname + form.getAttribute("data-path");
    form.querySelectorAll("[data-id]").forEach(function (el) { el.id = el.getAttribute("data-id") + reference; });
    form.querySelectorAll("[data-named]").forEach(function (el) {
      el.setAttribute("aria-label", el.getAttribute("data-named").replace("{}", named));
    });
    form.querySelectorAll("[data-reference]").forEach(function (el) { el.textContent = reference; });
    link.after(form);
    link.setAttribute("aria-expanded", "true");
    if (focus) { form.querySelector("textarea, input[type=text]").focus(); }
    return form;
  }

  function onOpen(event) {
    var link = event.target.closest ? event.target.closest("a[data-opens]") : null;
    if (!link || !box || !box.contains(link)) { return; }
    event.preventDefault();
    var open = link.parentNode.querySelector("form.on-demand[data-kind='" + link.getAttribute("data-opens") + "']");
    if (open) {  // a second click closes it again
      open.remove();
      link.setAttribute("aria-expanded", "false");
      return;
    }
    openForm(link, true);
  }

  // Without the background post (e.g. a form sent before this script ran), the redirect lands on #inc-REF:
  // show the confirmation in that row, in view, and put focus on the row's next action.
  function confirmationInView() {
    var flashes = document.querySelectorAll("#flashes .flash");
    if (!flashes.length) { return; }
    var row = location.hash && document.getElementById(location.hash.slice(1));
    if (row && box && box.contains(row)) {
      var reference = row.getAttribute("data-reference");
      say(reference, Array.prototype.map.call(flashes, function (p) {
        return { text: p.textContent, error: p.classList.contains("error") };
      }), "");
      Array.prototype.forEach.call(flashes, function (p) { p.remove(); });
    } else {
      flashes[0].tabIndex = -1;
      flashes[0].focus();
    }
  }

  function start() {
    document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    if (box) { WARN = parseInt(box.getAttribute("data-warn"), 10) || WARN; }
    tick(true);
    window.setInterval(function () { tick(false); }, 1000);
    if (box || incident) {
      setupToggle();
      schedule();
    }
    if (box) {
      document.addEventListener("submit", onSubmit);
      document.addEventListener("click", onOpen);
      confirmationInView();
    }
    window.hotlineBoard = { refresh: box ? refresh : refreshIncident, tick: tick,
                            paused: function () { return paused; } };
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

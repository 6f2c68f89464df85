// Ticks every countdown once a second from the server's remaining time (the phone's clock may be wrong);
// reloads the page every data-refresh seconds unless the user is typing. A file, not inline: the CSP allows no inline script.
(function () {
  var me = document.currentScript;
  var warnSeconds = parseInt(me.getAttribute("data-warn"), 10);
  var refreshMs = parseInt(me.getAttribute("data-refresh"), 10) * 1000;
  var loaded = Date.now();
  var els = document.querySelectorAll(".countdown[data-remaining]");
  function text(s) {
    var a = Math.abs(s), m = Math.floor(a / 60), r = a % 60;
    return m + ":" + (r < 10 ? "0" : "") + r + (s < 0 ? " overdue" : " left");
  }
  function tick() {
    var gone = Math.floor((Date.now() - loaded) / 1000);
    for (var k = 0; k < els.length; k++) {
      var el = els[k], s = parseInt(el.getAttribute("data-remaining"), 10) - gone;
      if (el.hasAttribute("data-connected")) continue;  // called back: the text says how fast
      el.textContent = text(s);
      el.classList.remove("ok", "warn", "bad");
      el.classList.add(s <= 0 ? "bad" : s <= warnSeconds ? "warn" : "ok");
    }
  }
  function typing() {
    var a = document.activeElement, boxes = document.querySelectorAll("textarea, input[type=text]");
    if (a && (a.tagName === "TEXTAREA" || a.tagName === "INPUT" || a.tagName === "SELECT")) { return true; }
    for (var k = 0; k < boxes.length; k++) { if (boxes[k].value.trim() !== "") { return true; } }
    return false;
  }
  function refresh() {
    if (typing()) { setTimeout(refresh, refreshMs); } else { window.location.reload(); }
  }
  setInterval(tick, 1000);
  setTimeout(refresh, refreshMs);
})();

// mcpreg console: the viewer's local time on hover and focus of every <time>.
// The page reads fine without this; it only adds the local time to the UTC one in the title.
(function () {
  "use strict";
  function local(el) {
    if (el.dataset.local) { return; }
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when.getTime())) { return; }
    var text = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "long" });
    el.dataset.local = text;
    el.title = (el.dataset.utc || el.title) + "\nlocal: " + text;
    el.setAttribute("aria-label", el.textContent + " (" + (el.dataset.utc || "") + "; local " + text + ")");
  }
  function onEvent(event) {
    var el = event.target;
    if (el && el.tagName === "TIME") { local(el); }
  }
  document.addEventListener("mouseover", onEvent, true);
  document.addEventListener("focusin", onEvent, true);
})();

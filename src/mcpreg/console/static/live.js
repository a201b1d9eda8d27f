// mcpreg console, operations screens: live updates, confirmation dialogs, local times.
// Everything here is an enhancement: without it the board and the rollout panel still read
// fine, every button leads to a confirmation page, and times stay in UTC.
(function () {
  "use strict";

  // -- Live updates ------------------------------------------------------------------------
  // The page's [data-live-src] box holds a fragment rendered at change generation
  // data-generation. /api/changes?after=G answers as soon as the generation moves past G;
  // then the fragment is fetched again and swapped in (never while a dialog is open).
  // What the change feed does not carry (a canary analysis verdict is not a change) the
  // fragment asks for with data-refresh-every="S": every S seconds it is asked for again with
  // what is shown (&unless=GENERATION:SIGNATURE), and the server answers 204 when that is
  // still so; otherwise the fresh fragment is swapped in.
  var WAIT = 25;
  var box = document.querySelector("[data-live-src]");
  var statusLine = document.querySelector("[data-live-status]");
  var stale = false;

  function pause(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function dialogOpen() {
    return document.querySelector("dialog[open]") !== null;
  }

  function say(text) {
    if (statusLine) { statusLine.textContent = text; }
  }

  function shown() {
    return box.querySelector("[data-generation]");
  }

  async function refresh(onlyIfMoved) {
    var url = box.dataset.liveSrc;
    var before = shown();
    if (onlyIfMoved && before) {
      url += "&unless=" + encodeURIComponent(before.dataset.generation + ":" + (before.dataset.signature || ""));
    }
    var response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (response.status === 204) { return; }
    if (response.status >= 400 && response.status < 500) {
      var gone = new Error("this page is no longer yours to see (" + response.status + "): reload it");
      gone.final = true;
      throw gone;
    }
    if (!response.ok) { throw new Error("fragment " + response.status); }
    var holder = document.createElement("template");
    holder.innerHTML = await response.text();
    var fresh = holder.content.querySelector("[data-generation]");
    if (!fresh) { throw new Error("fragment without a generation"); }
    var focused = document.activeElement && document.activeElement.id;
    box.replaceChildren.apply(box, Array.prototype.slice.call(holder.content.childNodes));
    box.dataset.generation = fresh.dataset.generation;
    if (focused) {
      var again = document.getElementById(focused);
      if (again) { again.focus(); }
    }
    countdowns();
    say("Updated " + new Date().toLocaleTimeString());
  }

  async function follow() {
    for (;;) {
      try {
        if (stale && !dialogOpen()) {
          await refresh();
          stale = false;
        }
        var after = box.dataset.generation;
        var response = await fetch("/api/changes?after=" + encodeURIComponent(after) + "&wait=" + WAIT,
          { cache: "no-store" });
        if (!response.ok) { throw new Error("changes " + response.status); }
        var body = await response.json();
        if (body.changed) {
          stale = true;
          if (!dialogOpen()) {
            await refresh();
            stale = false;
          } else {
            await pause(500);
          }
        }
      } catch (error) {
        if (error.final) {
          say("Live updates stopped: " + error.message + ".");
          return;
        }
        say("Live updates paused (" + error.message + "); retrying.");
        await pause(2000);
      }
    }
  }

  async function look() {
    for (;;) {
      var root = shown();
      var every = root ? Number(root.dataset.refreshEvery) : 0;
      await pause(every > 0 ? every * 1000 : 5000);
      if (!(every > 0) || dialogOpen() || document.hidden) { continue; }
      try {
        await refresh(true);
      } catch (error) {
        if (error.final) { return; }  // follow() says why
      }
    }
  }

  // -- Countdowns: "in 4m 10s" to the next timed step ------------------------------------------
  function left(seconds) {
    if (seconds <= 0) { return "due now"; }
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = Math.floor(seconds % 60);
    return "in " + (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
  }

  function countdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var when = new Date(el.dataset.countdown).getTime();
      if (isNaN(when)) { return; }
      if (!el.dataset.utcText) { el.dataset.utcText = el.textContent; }
      el.textContent = left((when - now) / 1000) + ", " + el.dataset.utcText;
    });
  }

  // -- Local time beside a UTC datetime-local field -------------------------------------------
  function preview(input) {
    var out = document.querySelector('output[for="' + input.id + '"][data-local-preview]');
    if (!out) { return; }
    if (!input.value) { out.textContent = ""; return; }
    var when = new Date(input.value + "Z");
    if (isNaN(when.getTime())) { out.textContent = ""; return; }
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
    out.textContent = "= " + when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "long" }) +
      " in your time (" + zone + ")";
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches('input[type="datetime-local"]')) { preview(event.target); }
  });

  // -- Dialogs ---------------------------------------------------------------------------------
  // a[data-dialog="ID"]: open that <dialog> (a confirmation already in the page).
  // a[data-open-dialog]: fetch the link's form (?fragment=1) into the shared dialog.
  // [data-close] inside a dialog closes it. Without JavaScript every link is a page.
  var shared = null;

  function sharedDialog() {
    if (shared) { return shared; }
    shared = document.createElement("dialog");
    shared.id = "ops-dialog";
    shared.setAttribute("aria-labelledby", "ops-dialog-title");
    document.body.appendChild(shared);
    return shared;
  }

  async function openForm(link) {
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("fragment", "1");
    var response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    var dialog = sharedDialog();
    var title = document.createElement("h2");
    title.id = "ops-dialog-title";
    title.textContent = link.getAttribute("aria-label") || link.textContent;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "secondary";
    close.setAttribute("data-close", "");
    close.textContent = "Cancel";
    var holder = document.createElement("template");
    holder.innerHTML = await response.text();
    dialog.replaceChildren(title, holder.content, close);
    dialog.querySelectorAll('input[type="datetime-local"]').forEach(preview);
    dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("a, button") : null;
    if (!target) { return; }
    if (target.hasAttribute("data-close")) {
      var dialog = target.closest("dialog");
      if (dialog) { event.preventDefault(); dialog.close(); }
      return;
    }
    if (target.dataset.dialog) {
      var found = document.getElementById(target.dataset.dialog);
      if (found && found.showModal) { event.preventDefault(); found.showModal(); }
      return;
    }
    if (target.hasAttribute("data-open-dialog") && window.HTMLDialogElement) {
      event.preventDefault();
      openForm(target).catch(function () { window.location.href = target.href; });
    }
  });

  document.addEventListener("close", function () {
    if (stale && box && !dialogOpen()) { refresh().then(function () { stale = false; }, function () {}); }
  }, true);

  document.querySelectorAll('input[type="datetime-local"]').forEach(preview);
  countdowns();
  setInterval(countdowns, 1000);
  if (box) { follow(); look(); }
})();

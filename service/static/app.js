// Beacon's question page, enhanced: answers appear as you type, without reloading. The page works
// fully without this file (the form submits to /?q=). As you type, this fetches that same
// server-rendered page and swaps in its results, so both ways show exactly the same thing (spelling
// notice, "Less related" labels, the answer marked in its passage) from one set of templates and
// highlighting rules. Nodes are imported from the parsed page, never built from HTML strings; the
// server has already escaped every passage and query.
"use strict";
(function () {
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  if (!form || !input || !results || !window.fetch || !window.DOMParser) return;
  // Ticking a filter searches at once from here on, so the no-JavaScript "Apply filters" button can go.
  document.documentElement.classList.add("js");

  var DEBOUNCE_MS = 250;
  // A question counts as asked (the curator's report) once the reader has stopped typing this long,
  // or pressed Enter; the searches in between are sent as typing=1 and not stored.
  var SETTLE_MS = 2000;
  var timer = 0;
  var settle = 0;
  var controller = null;
  var shown = null;  // the question and filters on screen, so the same search is not sent twice
  // Messages in the page's language, rendered by the server into the form's data attributes.
  var say = function (name, fallback) { return form.getAttribute("data-" + name) || fallback; };
  var langField = form.querySelector("input[name=lang]");
  var siteField = form.querySelector("select[name=site]");  // on a server with several sites (docs/sites.md)

  // The filters checked now (the chips live in #results and come back with every answer).
  function tags() {
    return Array.prototype.map.call(results.querySelectorAll(".filters input[name=tag]:checked"),
      function (box) { return box.value; });
  }

  function pageUrl(query, chosen) {
    // encodeURIComponent (%20, not URLSearchParams' +): the address stays the one a reader would share.
    var params = [];
    if (query) params.push("q=" + encodeURIComponent(query));
    (chosen || []).forEach(function (t) { params.push("tag=" + encodeURIComponent(t)); });
    if (langField) params.push("lang=" + encodeURIComponent(langField.value));
    if (siteField && siteField.value) params.push("site=" + encodeURIComponent(siteField.value));
    return params.length ? "?" + params.join("&") : location.pathname;
  }

  function site() { return siteField ? siteField.value : ""; }

  shown = input.value.trim() + "\u0000" + tags().join(",") + "\u0000" + site();

  function fromTemplate(id) {
    var t = document.getElementById(id);
    return t ? t.content.cloneNode(true) : document.createDocumentFragment();
  }

  function imported(node) { return document.importNode(node, true); }

  // The server's page for the question; its 422 page carries the reason in #results like any other.
  function show(page) {
    var fresh = page.getElementById("results");
    if (!fresh) {
      // Not the question page (error.html, e.g. a 503): its message is the first paragraph.
      var message = page.querySelector("main p");
      throw new Error(message ? message.textContent : say("failed", "The search did not work. Please try again."));
    }
    results.replaceChildren.apply(results, Array.prototype.map.call(fresh.childNodes, imported));
    var count = page.getElementById("status");
    status.textContent = count ? count.textContent : "";
  }

  function showError(message) {
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    results.replaceChildren(p);
    status.textContent = "";
  }

  function setBusy(busy) {
    form.classList.toggle("busy", busy);
    results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function remember(query, chosen) {
    history.replaceState(null, "", pageUrl(query, chosen));
    document.title = query ? query + " · Beacon" : "Beacon";
  }

  function recordAsked(query, chosen) {
    // The page's own parameters (lang is ignored by the API), so the count is of the same search.
    fetch("/api/search" + pageUrl(query, chosen) + "&k=1", { headers: { Accept: "application/json" } })
      .catch(function () {});  // only a count; the reader already has the answer on screen
  }

  function search(query, chosen, typing) {
    clearTimeout(timer);
    clearTimeout(settle);
    chosen = chosen || tags();
    var key = query + "\u0000" + chosen.join(",") + "\u0000" + site();
    if (key === shown) return;
    shown = key;
    if (controller) controller.abort();
    remember(query, chosen);
    if (!query) {
      setBusy(false);
      results.replaceChildren(fromTemplate("tpl-intro"));
      status.textContent = "";
      return;
    }
    controller = new AbortController();
    var mine = controller;
    setBusy(true);
    fetch("/" + pageUrl(query, chosen) + (typing ? "&typing=1" : ""),
      { signal: mine.signal, headers: { Accept: "text/html" } })
      .then(function (r) {
        if (/^text\/html/.test(r.headers.get("content-type") || "")) return r.text();
        // Refusals of the page (429, 503) are error pages, handled by show(); anything else is JSON.
        return r.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.detail || say("failed", "The search did not work. Please try again."));
        });
      })
      .then(function (html) {
        if (mine !== controller) return;
        show(new DOMParser().parseFromString(html, "text/html"));
        if (typing) settle = setTimeout(function () { recordAsked(query, chosen); }, SETTLE_MS);
      })
      .catch(function (e) {
        if (e.name === "AbortError" || mine !== controller) return;
        // fetch rejects with a TypeError only when the server could not be reached at all.
        showError(e instanceof TypeError ?
          say("offline", "Beacon could not be reached. Check your connection and try again.") : e.message);
      })
      .finally(function () { if (mine === controller) setBusy(false); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    clearTimeout(settle);
    var query = input.value.trim();
    timer = setTimeout(function () { search(query, null, true); }, query ? DEBOUNCE_MS : 0);
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    shown = null;  // Enter on the same question searches again
    search(input.value.trim());
  });

  // Another site chosen searches again at once, without its filters (they may not exist there).
  if (siteField) siteField.addEventListener("change", function () { search(input.value.trim(), []); });

  // A chip ticked or unticked searches again at once; without this file the form's button does it.
  results.addEventListener("change", function (e) {
    if (e.target.name === "tag") search(input.value.trim());
  });
  results.addEventListener("submit", function (e) {
    var target = e.target;
    if (target.classList.contains("filters")) {
      e.preventDefault();
      search(input.value.trim());
    } else if (target.classList.contains("feedback")) {
      e.preventDefault();
      sendFeedback(target, e.submitter);
    }
  });

  // "Did this help?" without leaving the page: the same POST the form makes, answered in JSON.
  function sendFeedback(feedbackForm, button) {
    var body = new URLSearchParams(new FormData(feedbackForm));
    if (button && button.name) body.set(button.name, button.value);
    var thanks = say("thanks", "Thank you.");
    fetch(feedbackForm.action, { method: "POST", body: body, headers: { Accept: "application/json" } })
      .catch(function () { /* feedback is best effort: the reader is thanked either way */ });
    var p = document.createElement("p");
    p.className = "feedback-thanks";
    p.textContent = thanks;
    feedbackForm.replaceWith(p);
    status.textContent = thanks;  // announced by the live region
  }

  function navItems() { return Array.prototype.slice.call(results.querySelectorAll("a[data-nav]")); }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    var active = document.activeElement;
    var typing = active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
    if (e.key === "/" && !typing) {
      e.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    if (typing && active !== input) return;
    var items = navItems();
    if (!items.length) return;
    var i = items.indexOf(active);
    if (active === input) {
      if (e.key === "ArrowUp") return;
      i = 0;
    } else if (i < 0) {
      return;  // arrows keep scrolling the page unless focus is in the results
    } else {
      i += e.key === "ArrowDown" ? 1 : -1;
    }
    e.preventDefault();
    if (i < 0) { input.focus(); return; }
    items[Math.min(i, items.length - 1)].focus();
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && navItems().indexOf(document.activeElement) >= 0) input.focus();
  });
})();

// Beacon's question page, enhanced: answers appear as you type, without reloading. The page works
// fully without this file (the form submits to /?q=); everything here builds DOM nodes with
// textContent, never HTML strings, so passage and query text always stay text.
"use strict";
(function () {
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  if (!form || !input || !results || !window.fetch) return;

  var DEBOUNCE_MS = 250;
  var timer = 0;
  var controller = null;
  var shown = input.value.trim();

  // Same rules as service/highlight.py: common words are not marked, CJK runs match by character pairs.
  var STOPWORDS = new Set(("a an and are as at be by can do does for from how i in is it me my of on or the to " +
    "what where who why will with you your about there this that which when should would could am was were").split(" "));
  var CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+/g;
  var WORD = /[\p{L}\p{N}_][\p{L}\p{N}_'-]*/gu;

  function queryTerms(query) {
    var terms = new Set();
    (query.match(CJK) || []).forEach(function (run) {
      if (run.length === 1) terms.add(run);
      for (var i = 0; i + 1 < run.length; i++) terms.add(run.slice(i, i + 2));
    });
    (query.replace(CJK, " ").match(WORD) || []).forEach(function (word) {
      var w = word.toLowerCase().replace(/^['-]+|['-]+$/g, "");
      if (w.length >= 2 && !STOPWORDS.has(w)) terms.add(w);
    });
    return Array.from(terms).sort(function (a, b) { return b.length - a.length; });
  }

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function termPattern(query) {
    var terms = queryTerms(query);
    if (!terms.length) return null;
    var cjk = terms.filter(function (t) { return /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/.test(t); });
    var latin = terms.filter(function (t) { return cjk.indexOf(t) < 0; });
    var parts = [];
    if (latin.length) parts.push("(?<![\\p{L}\\p{N}_])(?:" + latin.map(escapeRegExp).join("|") + ")[\\p{L}\\p{N}_]*");
    if (cjk.length) parts.push(cjk.map(escapeRegExp).join("|"));
    return new RegExp(parts.join("|"), "giu");
  }

  // Text nodes with <mark> elements around matches.
  function highlighted(parent, text, pattern) {
    var last = 0;
    if (pattern) {
      pattern.lastIndex = 0;
      var m;
      while ((m = pattern.exec(text)) !== null) {
        if (!m[0]) { pattern.lastIndex++; continue; }
        parent.appendChild(document.createTextNode(text.slice(last, m.index)));
        el(parent, "mark", m[0]);
        last = m.index + m[0].length;
      }
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }

  function el(parent, tag, text, attrs) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function safeHref(url) {
    // The API only returns http(s) and same-site URLs; refuse anything else (javascript:, data:) regardless.
    try {
      var u = new URL(url, location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) { return null; }
  }

  function link(parent, text, url, attrs) {
    if (!safeHref(url)) return el(parent, "span", text);
    attrs = attrs || {};
    attrs.href = url;  // as given, so a passage link stays relative like the server-rendered one
    return el(parent, "a", text, attrs);
  }

  // The page's own paths: /source/doc#anchor for a passage, /source/doc for its document.
  function localPath(url) {
    try { var u = new URL(url, location.href); return u.pathname + u.hash; } catch (e) { return url; }
  }

  function citation(parent, r) {
    var p = el(parent, "p", "from: ", { "class": "cite" });
    link(p, r.section !== r.title ? r.title + " › " + r.section : r.title, localPath(r.url), { "data-nav": "" });
    return p;
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function fromTemplate(id) {
    var t = document.getElementById(id);
    return t ? t.content.cloneNode(true) : document.createDocumentFragment();
  }

  function render(body) {
    var pattern = termPattern(body.query);
    var frag = document.createDocumentFragment();
    if (body.answer && body.results[body.answer.result]) {
      var best = body.results[body.answer.result];
      var answer = el(frag, "section", null, { "class": "answer", "aria-label": "Answer" });
      highlighted(el(answer, "p", null, { "class": "answer-text" }), body.answer.text, pattern);
      citation(answer, best);
    } else {
      frag.appendChild(fromTemplate("tpl-no-answer"));
    }
    var groups = new Map();
    body.results.forEach(function (r) {
      var doc = r.id.split("#")[0];
      if (!groups.has(doc)) groups.set(doc, { title: r.title, url: localPath(r.url).split("#")[0], links: r.links, hits: [] });
      groups.get(doc).hits.push(r);
    });
    var list = el(frag, "ol", null, { "class": "results" });
    groups.forEach(function (g) {
      var li = el(list, "li", null, { "class": "doc" });
      link(el(li, "h2"), g.title, g.url);
      g.hits.forEach(function (r) {
        var article = el(li, "article", null, { "class": "passage" });
        if (r.section !== g.title) el(article, "h3", r.section);
        highlighted(el(article, "p"), r.text, pattern);
        citation(article, r);
      });
      if (g.links.length) {
        var ul = el(li, "ul", null, { "class": "links" });
        g.links.forEach(function (l) { link(el(ul, "li"), l.text, l.url, { rel: "noopener noreferrer" }); });
      }
    });
    results.replaceChildren(frag);
    status.textContent = plural(body.results.length, "passage") + " from " + plural(groups.size, "source");
  }

  function showError(message) {
    results.replaceChildren();
    el(results, "p", message, { "class": "error", role: "alert" });
    status.textContent = "";
  }

  function setBusy(busy) {
    form.classList.toggle("busy", busy);
    results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function remember(query) {
    var url = query ? "?q=" + encodeURIComponent(query) : location.pathname;
    history.replaceState(null, "", url);
    document.title = query ? query + " · Beacon" : "Beacon";
  }

  function search(query) {
    clearTimeout(timer);
    if (query === shown) return;
    shown = query;
    if (controller) controller.abort();
    remember(query);
    if (!query) {
      setBusy(false);
      results.replaceChildren(fromTemplate("tpl-intro"));
      status.textContent = "";
      return;
    }
    controller = new AbortController();
    var mine = controller;
    setBusy(true);
    fetch("/api/search?q=" + encodeURIComponent(query), { signal: mine.signal, headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok) throw new Error(body.detail || "The search did not work (error " + r.status + "). Please try again.");
          return body;
        });
      })
      .then(function (body) { if (mine === controller) render(body); })
      .catch(function (e) {
        if (e.name === "AbortError" || mine !== controller) return;
        showError(e.message && e.message.indexOf("fetch") < 0 ? e.message :
          "Beacon could not be reached. Check your connection and try again.");
      })
      .finally(function () { if (mine === controller) setBusy(false); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var query = input.value.trim();
    timer = setTimeout(function () { search(query); }, query ? DEBOUNCE_MS : 0);
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    shown = shown === input.value.trim() ? null : shown;  // Enter on the same question searches again
    search(input.value.trim());
  });

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

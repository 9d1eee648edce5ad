/* Beacon search widget: <script src="https://BEACON/widget.js" defer></script> then <beacon-search></beacon-search>.
 * A web component with its own shadow root, so host CSS cannot reach in and its CSS cannot leak out. It builds
 * every node with textContent (never HTML strings), loads nothing else, and calls only BEACON/api/search. */
(function () {
  "use strict";
  if (!window.customElements || customElements.get("beacon-search")) return;

  // Beacon's address defaults to wherever this file was loaded from, so the snippet needs no configuration.
  var script = document.currentScript;
  var DEFAULT_API = script && script.src ? new URL(".", script.src).href : location.origin + "/";
  // The service's limits, written in by service/widget.py from its settings (BEACON_MAX_QUERY_CHARS,
  // BEACON_DEFAULT_K, BEACON_MAX_K) when it serves this file.
  var LIMITS = {"maxQueryChars": 512, "defaultK": 5, "maxK": 20};
  var CJK_RE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af";
  var STOP = new Set(("a an and are as at be by can do does for from how i in is it me my of on or the to what where " +
    "who why will with you your about there this that which when should would could am was were").split(" "));
  var uid = 0;

  // The widget's words in each language it speaks (the page's own words are in service/locales/).
  // Its language: its own lang attribute, else the nearest lang above it, which is the host page's <html lang>.
  var STRINGS = {
    en: {
      label: "Search", placeholder: "Ask a question", searchedFor: "Searched for {0}.", from: "from: ",
      inContext: "Read in context", weak: "Less related", linksFor: "Links for {0}",
      nothing: "Nothing found. Try other words.", noDirect: "No direct answer; the closest passages: ",
      one: "1 result.", many: "{0} results.", error: "Search is not available right now (error {0}).",
      unreachable: "Search could not be reached. Please try again in a moment.", failed: "Search failed.",
      helped: "Did this help?", yes: "Yes", no: "No", more: "More from this section ({0})", thanks: "Thank you. Your answer helps us improve this guide."
    },
    zh: {
      label: "搜索", placeholder: "提个问题", searchedFor: "已按“{0}”搜索。", from: "出自：",
      inContext: "查看上下文", weak: "相关性较低", linksFor: "{0} 的链接",
      nothing: "没有找到相关内容，换个说法试试。", noDirect: "没有直接的回答；最接近的内容：",
      one: "1 条结果。", many: "{0} 条结果。", error: "搜索暂时不可用（错误 {0}）。",
      unreachable: "暂时连不上搜索，请稍后再试。", failed: "搜索没有成功。",
      helped: "这对你有帮助吗？", yes: "有帮助", no: "没有帮助", more: "本节的更多内容（{0}）", thanks: "谢谢你。你的反馈能帮我们把这份指南做得更好。"
    }
  };
  var HTML_LANG = { en: "en", zh: "zh-Hans" };

  function languageOf(node) {
    var tagged = node.closest("[lang]");
    var tag = (tagged && tagged.getAttribute("lang")) || document.documentElement.lang || "en";
    return /^zh\b/i.test(tag) ? "zh" : "en";
  }

  function fmt(text, value) { return text.replace("{0}", value); }

  var CSS = [
    ":host{all:initial;display:block;contain:content;",
    "--_bg:var(--beacon-bg,#fff);--_fg:var(--beacon-fg,#1f2a30);--_muted:var(--beacon-muted,#5b6870);",
    "--_accent:var(--beacon-accent,#2f6f7e);--_accent-fg:var(--beacon-accent-fg,#fff);--_border:var(--beacon-border,#dfe4e6);",
    "--_mark:var(--beacon-mark,#fff1b8);--_focus:var(--beacon-focus,#1b5f9e);--_answer:var(--beacon-answer-bg,#eef6f4);",
    "--_radius:var(--beacon-radius,.6rem);font:var(--beacon-font-size,16px)/1.5 var(--beacon-font,system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','PingFang SC',sans-serif);color:var(--_fg)}",
    ":host([hidden]){display:none}",
    "@media (prefers-color-scheme:dark){.root.auto{--_bg:var(--beacon-bg,#1c2428);--_fg:var(--beacon-fg,#e5ecef);",
    "--_muted:var(--beacon-muted,#9aa8af);--_accent:var(--beacon-accent,#7cc4cf);--_accent-fg:var(--beacon-accent-fg,#0d1619);",
    "--_border:var(--beacon-border,#2e3a40);--_mark:var(--beacon-mark,#5a4a12);--_focus:var(--beacon-focus,#8cc8ff);--_answer:var(--beacon-answer-bg,#1b2d2c)}}",
    ":host([theme=dark]){--_bg:var(--beacon-bg,#1c2428);--_fg:var(--beacon-fg,#e5ecef);--_muted:var(--beacon-muted,#9aa8af);",
    "--_accent:var(--beacon-accent,#7cc4cf);--_accent-fg:var(--beacon-accent-fg,#0d1619);--_border:var(--beacon-border,#2e3a40);",
    "--_mark:var(--beacon-mark,#5a4a12);--_focus:var(--beacon-focus,#8cc8ff);--_answer:var(--beacon-answer-bg,#1b2d2c)}",
    "*{box-sizing:border-box}",
    ".panel{background:var(--_bg);color:var(--_fg);border:1px solid var(--_border);border-radius:var(--_radius);padding:.75rem}",
    "form{margin:0;position:relative}",
    "input{width:100%;font:inherit;color:var(--_fg);background:var(--_bg);border:1px solid var(--_border);border-radius:var(--_radius);padding:.6rem .75rem;margin:0}",
    "input::placeholder{color:var(--_muted)}",
    "a,button,input{outline:none}",
    "a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--_focus);outline-offset:1px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".status{margin:.5rem 0 0;font-size:.85em;color:var(--_muted)}.status:empty{display:none}",
    ".bar{height:2px;margin-top:.35rem;border-radius:2px}",
    ".busy .bar{background:linear-gradient(90deg,transparent,var(--_accent),transparent) 0 0/40% 100% no-repeat;animation:b 1.1s ease-in-out infinite}",
    "@keyframes b{from{background-position:-40% 0}to{background-position:140% 0}}",
    "@media (prefers-reduced-motion:reduce){.busy .bar{animation:none;background:var(--_border)}}",
    ".results{max-height:var(--beacon-max-height,28rem);overflow:auto;overscroll-behavior:contain}",
    ".results:empty{display:none}",
    "ol{list-style:none;margin:0;padding:0}",
    ".answer{background:var(--_answer);border-radius:var(--_radius);padding:.6rem .75rem;margin:.6rem 0}",
    ".answer p,.answer-text{margin:0 0 .3rem}",
    ".doc{border-top:1px solid var(--_border);padding:.55rem 0}",
    ".doc:first-child{border-top:0}",
    ".doc h3{font-size:1em;margin:0 0 .15rem;font-weight:600}",
    ".hit{display:block;margin:.35rem 0;padding:.35rem .5rem;border-radius:calc(var(--_radius) - .2rem);color:inherit;text-decoration:none}",
    ".hit:hover,.hit:focus-visible{background:var(--_answer)}",
    ".hit .where{display:block;color:var(--_accent);font-size:.9em;text-decoration:underline}",
    ".hit .text{display:block;overflow-wrap:anywhere}",
    "pre{margin:.2rem 0;padding:.3rem .45rem;overflow-x:auto;font-size:.85em;background:var(--_answer);border-radius:.2rem}",
    ".cite,.note,.weak,.more summary{font-size:.85em;color:var(--_muted)}",
    ".note{margin:.5rem 0 0}.weak{display:block}",
    "a{color:var(--_accent)}",
    ".links{display:flex;flex-wrap:wrap;gap:.25rem .9rem;margin:.2rem .5rem 0;padding:0;list-style:none;font-size:.85em}",
    ".links a{overflow-wrap:anywhere}",
    "mark{background:var(--_mark);color:inherit;border-radius:.2rem;padding:0 .1rem}",
    ".error{color:#b23b3b}",
    ".fb{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center;margin:.1rem .5rem .4rem;font-size:.8em;color:var(--_muted)}",
    ".fb button{font:inherit;color:var(--_fg);background:var(--_bg);border:1px solid var(--_border);border-radius:999px;padding:.1rem .6rem;cursor:pointer}",
    ".answer .fb{margin:.3rem 0 0}",
    ".open{font:inherit;display:inline-flex;gap:.6rem;align-items:center;padding:.5rem .8rem;cursor:pointer;color:var(--_fg);",
    "background:var(--_bg);border:1px solid var(--_border);border-radius:var(--_radius)}",
    "kbd{font:.8em/1 ui-monospace,monospace;color:var(--_muted);border:1px solid var(--_border);border-radius:.3rem;padding:.15rem .3rem}",
    "dialog{border:0;padding:0;background:transparent;color:inherit;width:min(40rem,calc(100vw - 1.5rem));max-height:calc(100vh - 3rem);margin:8vh auto auto}",
    "dialog::backdrop{background:rgba(10,20,25,.45)}",
    "dialog .panel{box-shadow:0 12px 40px rgba(0,0,0,.25)}",
    "dialog .results{max-height:calc(100vh - 14rem)}"
  ].join("\n");

  var sheet = null;
  function styleRoot(root) {
    try {
      if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sheet];
    } catch (e) {  // no constructable stylesheets (older Safari): a <style> inside the shadow root
      var s = document.createElement("style");
      s.textContent = CSS;
      root.appendChild(s);
    }
  }

  function el(parent, tag, text, attrs) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function safeHref(url, base) {
    try {
      var u = new URL(url, base);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) { return null; }
  }

  // service/highlight.py's rules again: host pages load this one file alone, so it cannot share app code.
  function termPattern(query) {
    var cjk = new RegExp("[" + CJK_RE + "]+", "g"), terms = new Set();
    (query.match(cjk) || []).forEach(function (run) {
      if (run.length === 1) terms.add(run);
      for (var i = 0; i + 1 < run.length; i++) terms.add(run.slice(i, i + 2));
    });
    (query.replace(cjk, " ").match(/[\p{L}\p{N}_][\p{L}\p{N}_'-]*/gu) || []).forEach(function (word) {
      var w = word.toLowerCase().replace(/^['-]+|['-]+$/g, "");
      if (w.length >= 2 && !STOP.has(w)) terms.add(w);
    });
    var list = Array.from(terms).sort(function (a, b) { return b.length - a.length; });
    if (!list.length) return null;
    var esc = function (s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); };
    var isCjk = function (t) { return new RegExp("[" + CJK_RE + "]").test(t); };
    var parts = [], latin = list.filter(function (t) { return !isCjk(t); }), han = list.filter(isCjk);
    if (latin.length) parts.push("(?<![\\p{L}\\p{N}_])(?:" + latin.map(esc).join("|") + ")[\\p{L}\\p{N}_]*");
    if (han.length) parts.push(han.map(esc).join("|"));
    return new RegExp(parts.join("|"), "giu");
  }

  // A short window of the passage, starting near its first match, so each result stays a few lines long.
  function snippet(text, pattern, max) {
    if (text.length <= max) return text;
    var start = 0;
    if (pattern) {
      pattern.lastIndex = 0;
      var m = pattern.exec(text);
      if (m && m.index > max / 2) start = Math.max(0, text.lastIndexOf(" ", m.index - 40) + 1);
    }
    var cut = text.slice(start, start + max);
    var space = cut.lastIndexOf(" ");
    if (start + max < text.length && space > max * 0.6) cut = cut.slice(0, space);
    return (start > 0 ? "… " : "") + cut + (start + cut.length < text.length ? " …" : "");
  }

  // ingest/text.py's code blocks (split_blocks): a fence line, the code, the same fence alone on a line.
  var FENCE_RE = /^(`{3,})([^`\s]*)[ \t]*$/;
  function blocks(text) {
    var lines = text.split("\n"), out = [], prose = [], i = 0, m, end;
    while (i < lines.length) {
      if (!(m = FENCE_RE.exec(lines[i]))) { prose.push(lines[i++]); continue; }
      if (prose.length) out.push({ text: prose.join("\n") });
      prose = [];
      for (end = i + 1; end < lines.length && lines[end].trimEnd() !== m[1]; end++);
      out.push({ code: true, text: lines.slice(i + 1, end).join("\n") });
      i = end + 1;
    }
    if (prose.length) out.push({ text: prose.join("\n") });
    return out;
  }

  // Prose as text and code as <pre><code>, every piece a text node. With `max` (a result's snippet):
  // the block that best matches, with the prose before it when that block is code, cut short.
  function passage(parent, text, pattern, max) {
    var parts = blocks(text), at = 0;
    if (parts.length < 2 && !(parts[0] || {}).code) return highlighted(parent, max ? snippet(text, pattern, max) : text, pattern);
    if (max) {  // the block with the most different query words
      var best = 0;
      parts.forEach(function (b, i) {
        var n = pattern ? new Set((b.text.match(pattern) || []).map(function (w) { return w.toLowerCase(); })).size : 0;
        if (n > best) { best = n; at = i; }
      });
      parts = parts.slice(at && parts[at].code && !parts[at - 1].code ? at - 1 : at, at + 1);
    }
    parts.forEach(function (b) {
      var lines = b.text.split("\n");
      if (b.code) highlighted(el(el(parent, "pre"), "code"), max && lines.length > 8 ? lines.slice(0, 8).join("\n") + "\n…" : b.text, pattern);
      else if (b.text.trim()) highlighted(el(parent, "span", null, { "class": "text" }), max ? snippet(b.text, pattern, max / 2) : b.text, pattern);
    });
    return parent;
  }

  function highlighted(parent, text, pattern) {
    var last = 0, m;
    if (pattern) {
      pattern.lastIndex = 0;
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

  // Dark only where the host page is dark too: a dark box on a light-only page would look broken.
  // theme="auto" follows the system regardless; "light" and "dark" force one.
  function followsSystem(node) {
    var theme = node.getAttribute("theme");
    if (theme) return theme === "auto";
    var scheme = getComputedStyle(node).colorScheme || "normal";
    if (scheme !== "normal") return /dark/.test(scheme);
    var meta = document.querySelector('meta[name="color-scheme"]');
    return !!meta && /dark/.test(meta.content);
  }


  class BeaconSearch extends HTMLElement {
    static get observedAttributes() { return ["placeholder", "label", "theme", "lang"]; }

    constructor() {
      super();
      var root = this.attachShadow({ mode: "open" });
      styleRoot(root);
      var id = "beacon-" + (++uid);
      var host = this._root = el(root, "div", null, { "class": "root", part: "root" });
      this._modal = this.getAttribute("mode") === "modal";
      if (this._modal) {
        var open = el(host, "button", null, { type: "button", "class": "open", part: "trigger", "aria-haspopup": "dialog" });
        this._openLabel = el(open, "span");
        el(open, "kbd", /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent) ? "⌘K" : "Ctrl K", { "aria-hidden": "true" });
        this._dialog = el(host, "dialog", null, { "aria-labelledby": id + "-l" });
        open.addEventListener("click", this.open.bind(this));
        this._dialog.addEventListener("click", function (e) { if (e.target === e.currentTarget) e.currentTarget.close(); });
        host = this._dialog;
      }
      var panel = el(host, "div", null, { "class": "panel", part: "panel" });
      this._panel = panel;
      var form = el(panel, "form", null, { role: "search" });
      this._label = el(form, "label", null, { "for": id + "-q", id: id + "-l", "class": "sr" });
      this._input = el(form, "input", null, {
        id: id + "-q", type: "search", autocomplete: "off", spellcheck: "false", maxlength: String(LIMITS.maxQueryChars),
        enterkeyhint: "search", "aria-describedby": id + "-s", "aria-controls": id + "-r", part: "input"
      });
      el(form, "div", null, { "class": "bar", "aria-hidden": "true" });
      this._status = el(panel, "p", null, { "class": "status", role: "status", "aria-live": "polite", id: id + "-s" });
      this._results = el(panel, "div", null, { "class": "results", id: id + "-r", part: "results" });
      this._shown = "";
      this._timer = 0;
      this._settle = 0;
      this._ctl = null;
      this._input.addEventListener("input", this._onInput.bind(this));
      form.addEventListener("submit", this._onSubmit.bind(this));
      root.addEventListener("keydown", this._onKey.bind(this));
      this._onGlobalKey = this._onGlobalKey.bind(this);
      this._sync();
    }

    connectedCallback() {
      if (this._modal) document.addEventListener("keydown", this._onGlobalKey);
      this._sync();  // the language may come from the page around it, known only once connected
      this._root.classList.toggle("auto", followsSystem(this));
    }
    disconnectedCallback() { document.removeEventListener("keydown", this._onGlobalKey); }
    attributeChangedCallback() {
      if (!this._input) return;
      this._sync();
      this._root.classList.toggle("auto", followsSystem(this));
    }

    get _t() { return STRINGS[languageOf(this)]; }

    _sync() {
      var t = this._t, label = this.getAttribute("label") || t.label;
      this._root.setAttribute("lang", HTML_LANG[languageOf(this)]);
      this._label.textContent = label;
      this._input.placeholder = this.getAttribute("placeholder") || t.placeholder;
      if (this._openLabel) this._openLabel.textContent = label;
    }

    get apiBase() {
      var base = this.getAttribute("api") || DEFAULT_API;
      return base.charAt(base.length - 1) === "/" ? base : base + "/";
    }

    get maxResults() {
      var k = parseInt(this.getAttribute("max-results"), 10);
      return k >= 1 ? Math.min(k, LIMITS.maxK) : LIMITS.defaultK;
    }

    /** Open the modal (mode="modal") and put the cursor in the box. */
    open() {
      if (this._dialog && !this._dialog.open) this._dialog.showModal();
      this._input.focus();
      this._input.select();
    }

    close() { if (this._dialog && this._dialog.open) this._dialog.close(); }

    _onGlobalKey(e) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "k" || e.key === "K")) {
        e.preventDefault();
        if (this._dialog.open) this.close(); else this.open();
      }
    }

    _onInput() {
      clearTimeout(this._timer);
      clearTimeout(this._settle);
      var q = this._input.value.trim(), self = this;
      this._timer = setTimeout(function () { self.search(q, true); }, q ? 250 : 0);
    }

    _onSubmit(e) {
      e.preventDefault();
      this._shown = null;
      this.search(this._input.value.trim());
    }

    _items() { return Array.prototype.slice.call(this._results.querySelectorAll("a[data-nav]")); }

    _onKey(e) {
      var active = this.shadowRoot.activeElement, items = this._items(), i = items.indexOf(active);
      if (e.key === "Escape") {
        if (i >= 0) { e.preventDefault(); this._input.focus(); }
        // Closed here rather than left to <dialog>: Chromium may ignore a second Escape without a click between.
        else if (this._modal) { e.preventDefault(); this.close(); }
        else if (this._input.value) { e.preventDefault(); this._input.value = ""; this.search(""); }
        return;
      }
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp" || !items.length) return;
      if (active === this._input) {
        if (e.key === "ArrowUp") return;
        i = 0;
      } else if (i < 0) {
        return;
      } else {
        i += e.key === "ArrowDown" ? 1 : -1;
      }
      e.preventDefault();
      if (i < 0) this._input.focus(); else items[Math.min(i, items.length - 1)].focus();
    }

    /**
     * Search for `query` and show the results (an empty query clears them). `typing`: a question
     * still being typed; it counts as asked in the site's report only once the reader stops for 2 s.
     */
    search(query, typing) {
      clearTimeout(this._timer);
      clearTimeout(this._settle);
      if (query === this._shown) return;
      this._shown = query;
      if (this._ctl) this._ctl.abort();
      this._ctl = null;
      this._busy(false);
      if (!query) { this._results.replaceChildren(); this._status.textContent = ""; return; }
      var ctl = this._ctl = new AbortController(), self = this;
      var url = this.apiBase + "api/search?q=" + encodeURIComponent(query) + "&k=" + this.maxResults +
        this.filters.map(function (t) { return "&tag=" + encodeURIComponent(t); }).join("") +
        (this.sites ? "&site=" + encodeURIComponent(this.sites) : "") +
        (this.getAttribute("version") ? "&version=" + encodeURIComponent(this.getAttribute("version")) : "");
      var asked = function () {
        fetch(url, { mode: "cors", credentials: "omit", headers: { Accept: "application/json" } })
          .catch(function () {});  // only a count; the answer is already on screen
      };
      var t = this._t;
      this._busy(true);
      fetch(url + (typing ? "&typing=1" : ""), { signal: ctl.signal, mode: "cors", credentials: "omit", headers: { Accept: "application/json" } })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (body) {
            if (!r.ok) throw { message: body.detail || fmt(t.error, r.status) };
            return body;
          });
        })
        .then(function (body) {
          if (ctl !== self._ctl) return;
          self._render(body);
          if (typing) self._settle = setTimeout(asked, 2000);
        })
        .catch(function (err) {
          if (ctl !== self._ctl || (err && err.name === "AbortError")) return;
          self._results.replaceChildren();
          el(self._results, "p", err && err.message && !(err instanceof TypeError) ? err.message :
            t.unreachable, { "class": "error" });
          self._status.textContent = t.failed;
        })
        .finally(function () { if (ctl === self._ctl) self._busy(false); });
    }

    /** The `site` attribute, on a server with several sites: one site's name, or several ("a,b"); absent, all. */
    get sites() {
      return (this.getAttribute("site") || "").split(",").map(function (s) { return s.trim(); })
        .filter(Boolean).join(",");
    }

    /** The `filter` attribute: comma-separated tags or top-level folders (e.g. "online,tips"). */
    get filters() {
      return (this.getAttribute("filter") || "").split(",").map(function (t) { return t.trim(); })
        .filter(Boolean);
    }

    // "Did this help?" under the answer and each result: a form-encoded POST, a CORS simple request.
    _feedback(parent, query, result, kind) {
      var t = this._t, self = this, box = el(parent, "div", null, { "class": "fb", role: "group", "aria-label": t.helped });
      el(box, "span", t.helped, { "aria-hidden": "true" });
      [["yes", t.yes], ["no", t.no]].forEach(function (choice) {
        el(box, "button", choice[1], { type: "button", "data-helpful": choice[0] }).addEventListener("click", function () {
          var body = new URLSearchParams({ q: query, passage: result.id, kind: kind, helpful: choice[0] });
          // On a server with several sites the vote goes to the result's own site (and version).
          if (result.site) body.set("site", result.version ? result.site + "@" + result.version : result.site);
          fetch(self.apiBase + "api/feedback", { method: "POST", body: body, mode: "cors", credentials: "omit",
            headers: { Accept: "application/json" } }).catch(function () { /* best effort */ });
          var done = el(null, "p", t.thanks, { "class": "fb" });
          box.replaceWith(done);
          self._status.textContent = t.thanks;
        });
      });
    }

    _busy(on) {
      this._panel.classList.toggle("busy", on);
      this._results.setAttribute("aria-busy", on ? "true" : "false");
    }

    _link(parent, text, url, attrs) {
      var href = safeHref(url, this.apiBase);
      if (!href) return el(parent, "span", text);
      attrs = attrs || {};
      attrs.href = href;
      return el(parent, "a", text, attrs);
    }

    _render(body) {
      var pattern = termPattern(body.query), frag = document.createDocumentFragment(), self = this, t = this._t;
      var results = body.results || [];
      if (body.corrected) el(frag, "p", fmt(t.searchedFor, body.corrected), { "class": "note" });
      if (body.answer && results[body.answer.result]) {
        var best = results[body.answer.result];
        var answer = el(frag, "div", null, { "class": "answer", part: "answer" });
        passage(el(answer, "div", null, { "class": "answer-text" }), body.answer.text, pattern);
        var cite = el(answer, "p", t.from, { "class": "cite" });
        this._link(cite, best.section !== best.title ? best.title + " › " + best.section : best.title, best.url,
          { "data-nav": "" });
        this._feedback(answer, body.query, best, "answer");
      }
      var groups = new Map();
      results.forEach(function (r) {
        var doc = (r.site || "") + "@" + (r.version || "") + "\n" + r.id.split("#")[0];  // the same file name on two sites is two documents
        if (!groups.has(doc)) {
          groups.set(doc, { title: r.title, site: r.site && (r.version ? r.site + " " + r.version : r.site),
            links: r.links || [], hits: [] });
        }
        groups.get(doc).hits.push(r);
      });
      var list = el(frag, "ol");
      groups.forEach(function (g) {
        var li = el(list, "li", null, { "class": "doc" });
        el(li, "h3", g.title);
        if (g.site) el(li, "p", g.site, { "class": "site", part: "site" });
        g.hits.forEach(function (r) {
          var a = self._link(li, null, r.url, { "class": "hit", "data-nav": "" });
          el(a, "span", r.section !== g.title ? r.section : t.inContext, { "class": "where" });
          if (r.weak) el(a, "span", t.weak, { "class": "weak" });
          passage(el(a, "span", null, { "class": "text" }), r.text, pattern, 240);
          if (r.more && r.more.length) {
            var more = el(li, "details", null, { "class": "more" });
            el(more, "summary", fmt(t.more, r.more.length));
            r.more.forEach(function (m) { passage(el(more, "div", null, { "class": "text" }), m.text, pattern, 240); });
          }
          self._feedback(li, body.query, r, "result");
        });
        if (g.links.length) {
          var ul = el(li, "ul", null, { "class": "links", "aria-label": fmt(t.linksFor, g.title) });
          g.links.forEach(function (l) { self._link(el(ul, "li"), l.text, l.url, { rel: "noopener noreferrer" }); });
        }
      });
      this._results.replaceChildren(frag);
      this._status.textContent = !results.length ? t.nothing :
        (body.answer ? "" : t.noDirect) + (results.length === 1 ? t.one : fmt(t.many, results.length));
    }
  }

  customElements.define("beacon-search", BeaconSearch);
})();

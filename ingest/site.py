"""A site's settings (`beacon.toml` at the corpus root, or a file named with --site): what to read,
where its pages live publicly, and the words the question page and the widget show.

The file is optional. Without it a folder is read leniently (front matter optional, files Beacon
cannot read skipped and counted) and the page shows neutral copy. Library callers that pass no
Site at all keep the curated corpus's strict rules (`CURATED`), as Beacon always had them.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import quote, urlsplit

from .errors import CorpusError

SITE_FILE = "beacon.toml"
_HINT = "see docs/curating.md, 'The site file (beacon.toml)'"
# Neutral words for a corpus that brings none: nothing here may name a topic.
NEUTRAL_COPY = {
    "tagline": "Answers from this site, with the passage they come from",
    "intro": "Ask a question in your own words. Beacon finds the passages of this site that answer it "
    "and links to where each one lives.",
    "placeholder": "Ask a question",
    "no_answer": "Nothing here answers that question directly. These pages may help:",
    "disclaimer": "",
}


@dataclass(frozen=True)
class Site:
    name: str = "Beacon"
    description: str = ""
    # The public address of the corpus root: a page's URL is base_url + its path (docs/curating.md).
    base_url: str = ""
    pretty_urls: bool = False  # 'guide/install.html' is published as 'guide/install' ('index.html' as 'guide/')
    lang: str = "en"
    include: tuple[str, ...] = ()  # globs on the path under the corpus; empty means every file
    exclude: tuple[str, ...] = ()
    # strict: the curated rules: Markdown needs front matter with a title, and a file of any other
    # type than .md/.markdown/.txt is an error instead of being skipped.
    strict: bool = False
    # One unreadable file among many: "stop" (the default) fails the build and nothing is published;
    # "skip" leaves it out, prints it as an error line, and publishes the rest (for a big site).
    on_error: Literal["stop", "skip"] = "stop"
    # Built HTML pages: a CSS selector for the main content (the first match; pages it does not match
    # fall back to Beacon's own choice) and selectors of chrome inside it to leave out (docs/curating.md).
    content: str = ""
    ignore: tuple[str, ...] = ()
    # Hybrid ranking's weights of meaning (dense) and exact words (BM25) for this site; None leaves
    # Beacon's default (index/search.py). They travel with each version (public()), and
    # BEACON_DENSE_WEIGHT / BEACON_LEXICAL_WEIGHT override them where the index is searched.
    dense_weight: float | None = None
    lexical_weight: float | None = None
    # `lexical_weight = "fit"`: the build chooses the weight from questions made of the site's own
    # sentences (index/fitting.py). Opt-in: on five sites it matched the default four times and did
    # slightly worse once (docs/quality.md, "A weight chosen by the build").
    fit_lexical_weight: bool = False
    copy: dict = field(default_factory=lambda: dict(NEUTRAL_COPY))
    # The words in other languages: {"zh": {"tagline": ...}} from [copy.zh]; a page in that language
    # shows them, and falls back to `copy` for any word not given.
    translations: dict = field(default_factory=dict)
    source: str | None = field(default=None, repr=False)  # the settings file read, for messages

    def included(self, rel: str) -> bool:
        """Whether the include/exclude globs keep this corpus path ('*' also matches '/', as in fnmatch)."""
        if self.include and not any(fnmatchcase(rel, g) for g in self.include):
            return False
        return not any(fnmatchcase(rel, g) for g in self.exclude)

    def page_url(self, rel: str) -> str | None:
        """The public URL of the page built from this corpus path, or None without a base_url."""
        if not self.base_url:
            return None
        path = PurePosixPath(rel)
        if path.suffix.lower() in (".md", ".markdown", ".rst"):
            # A static-site generator publishes a Markdown source as an HTML page of the same name.
            path = path.with_suffix(".html")
            if path.name.lower() == "readme.html":
                path = path.with_name("index.html")
        text = path.as_posix()
        if self.pretty_urls and text.lower().endswith(".html"):
            text = text[: -len("index.html")] if path.name.lower() == "index.html" else text[: -len(".html")]
        return self.absolute(text)

    def absolute(self, url_path: str) -> str | None:
        """base_url joined with a site path such as a front-matter permalink ('/guide/install/')."""
        if re.match(r"^https?://", url_path, re.I):
            return url_path
        if not self.base_url:
            return None
        return self.base_url.rstrip("/") + "/" + quote(url_path.lstrip("/"), safe="/#%~@!$&'()*+,;=:")

    def own_url(self, url: str | None) -> str | None:
        """A page's own address (a canonical link, a front-matter url or permalink) when it is on this
        site's host, else None. Corpus text chooses it, and a link to another host became every result's
        link (a phishing page one click from the answer); without a base_url no page has a public
        address of its own, so results link to Beacon's /source/ page."""
        if not url or not self.base_url:
            return None
        try:
            page, site = urlsplit(url), urlsplit(self.base_url)
            same = page.scheme.lower() in ("http", "https") and (page.hostname, page.port) == (
                site.hostname,
                site.port,
            )
        except ValueError:  # a port that is not a number, say
            return None
        return url if same else None

    def with_overrides(self, **values) -> Site:
        """This site with the given settings replaced (flags and BEACON_* variables win over the file)."""
        values = {k: v for k, v in values.items() if v is not None}
        if "base_url" in values:
            _check_base_url(self.source or SITE_FILE, values["base_url"])
        return dataclasses.replace(self, **values) if values else self

    def public(self) -> dict:
        """What the service needs from the site at query time (it travels with the index version)."""
        return {
            "name": self.name,
            "description": self.description,
            "lang": self.lang,
            "base_url": self.base_url,
            "copy": dict(self.copy),
            "translations": {lang: dict(words) for lang, words in self.translations.items()},
            # Only the weights the file gives: the searcher tells them from its own defaults.
            "search": {k: getattr(self, k) for k in _WEIGHTS if getattr(self, k) is not None},
        }


# The curated corpus's rules, for library callers that give no Site (Beacon's behaviour before sites).
CURATED = Site(strict=True)

_SCALARS = {
    "name": str,
    "description": str,
    "base_url": str,
    "pretty_urls": bool,
    "lang": str,
    "strict": bool,
    "on_error": str,
    "content": str,
}
_LISTS = ("include", "exclude")
_WEIGHTS = ("dense_weight", "lexical_weight")


def _check_base_url(where: str, url: str) -> None:
    if url and not re.match(r"^https?://[^/\s]+", url, re.I):
        raise CorpusError(
            where,
            None,
            f"base_url {url!r} is not an http(s) address",
            "write it as https://example.org/docs/ (the address of the corpus root)",
        )


def site_file(corpus_dir: Path, path: Path | None = None) -> Path | None:
    """The settings file in use: the one named, else beacon.toml at the corpus root if there is one."""
    if path is not None:
        return Path(path)
    candidate = Path(corpus_dir) / SITE_FILE
    return candidate if candidate.is_file() else None


def load_site(corpus_dir: Path, path: Path | None = None, default: Site = Site()) -> Site:
    """Read the site settings; `default` when there is no file (a lenient Site for the CLI and service)."""
    file = site_file(corpus_dir, path)
    if file is None:
        return default
    shown = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(
            shown,
            None,
            "site settings file not found",
            "check --site / BEACON_SITE_CONFIG, or remove it to use the defaults",
        )
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(shown, None, f"cannot read the site settings: {e}", _HINT)
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"line (\d+)", str(e))
        raise CorpusError(
            shown,
            int(found.group(1)) if found else None,
            f"not valid TOML: {e}",
            'quote text values (name = "My docs") and check the brackets',
        )
    values: dict = {}
    for key, value in data.items():
        if key in _SCALARS:
            if not isinstance(value, _SCALARS[key]):
                raise CorpusError(shown, _line_of(file, key), f"'{key}' must be a {_SCALARS[key].__name__}", _HINT)
            values[key] = value.strip() if isinstance(value, str) else value
        elif key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
                raise CorpusError(
                    shown,
                    _line_of(file, key),
                    f"'{key}' must be a list of globs",
                    f'write it as {key} = ["_sources/**", "genindex*"]',
                )
            values[key] = tuple(g.strip().lstrip("/") for g in value if g.strip())
        elif key == "ignore":
            if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
                raise CorpusError(
                    shown, _line_of(file, key), "'ignore' must be a list of CSS selectors", _SELECTOR_HINT
                )
            values[key] = tuple(g.strip() for g in value if g.strip())
        elif key == "lexical_weight" and value == "fit":
            values["fit_lexical_weight"] = True
        elif key in _WEIGHTS:
            # bool is an int in Python; `lexical_weight = true` is a mistake, not 1.
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise CorpusError(
                    shown,
                    _line_of(file, key),
                    f"'{key}' must be a number of 0 or more" + (', or "fit"' if key == "lexical_weight" else ""),
                    f"write it as {key} = 0.5; see docs/curating.md, 'Ranking a site'",
                )
            values[key] = float(value)
        elif key == "copy":
            values["copy"], values["translations"] = _read_copy(shown, file, value)
        else:
            known = ", ".join([*_SCALARS, *_LISTS, "ignore", *_WEIGHTS, "[copy]"])
            raise CorpusError(shown, _line_of(file, key), f"unknown setting '{key}'", f"use one of: {known}")
    if values.get("on_error", "stop") not in ("stop", "skip"):
        raise CorpusError(shown, _line_of(file, "on_error"), 'on_error must be "stop" or "skip"', _HINT)
    _check_base_url(shown, values.get("base_url", ""))
    for key, selectors in (("content", [values.get("content", "")]), ("ignore", values.get("ignore", ()))):
        for selector in selectors:
            _check_selector(shown, _line_of(file, key), key, selector)
    return Site(**values, source=shown)


_SELECTOR_HINT = 'write CSS selectors, e.g. content = "div.body" and ignore = [".related", "#sidebar"]'


def _check_selector(shown: str, line: int | None, key: str, selector: str) -> None:
    if not selector:
        return
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError:
        raise CorpusError(shown, line, f"'{key}' has a CSS selector Beacon cannot read: {selector!r}", _SELECTOR_HINT)


def _read_copy(shown: str, file: Path, value) -> tuple[dict, dict]:
    """[copy] (the site's words) and its [copy.<lang>] tables (the same words in another language)."""
    if not isinstance(value, dict):
        raise CorpusError(shown, _line_of(file, "[copy]"), "[copy] must hold text values", _HINT)
    words = {k: v for k, v in value.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in value.items() if isinstance(v, dict)}
    for table, given in [("[copy]", words), *((f"[copy.{lang}]", t) for lang, t in tables.items())]:
        if not all(isinstance(v, str) for v in given.values()):
            raise CorpusError(shown, _line_of(file, table), f"{table} must hold text values", _HINT)
        unknown = sorted(set(given) - set(NEUTRAL_COPY))
        if unknown:
            raise CorpusError(
                shown,
                _line_of(file, unknown[0], table),
                f"unknown {table} key '{unknown[0]}'",
                f"use one of: {', '.join(NEUTRAL_COPY)}, or a [copy.<language>] table such as [copy.zh]",
            )
    copy = {**NEUTRAL_COPY, **{k: v.strip() for k, v in words.items()}}
    translations = {lang.lower(): {k: v.strip() for k, v in t.items()} for lang, t in tables.items()}
    return copy, translations


def _line_of(file: Path, key: str, table: str | None = None) -> int | None:
    """The line of `key = ...` (or of a `[table]` header given as key), inside `table` when one is named."""
    pattern = re.compile(re.escape(key) + (r"\s*$" if key.startswith("[") else r"\s*="))
    inside = table is None
    try:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            stripped = line.strip()
            if table is not None and stripped.startswith("["):
                inside = stripped == table
            elif inside and pattern.match(stripped):
                return n
    except OSError:
        pass
    return None

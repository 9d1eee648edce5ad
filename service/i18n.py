"""The interface's languages: message catalogs for the templates, and which language a page speaks.

Catalogs are the Babel .po files in service/locales/<lang>/LC_MESSAGES/messages.po, compiled in memory
at start-up (a few milliseconds), so a fresh clone needs no build step and no compiled .mo is committed.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, pass_context
from starlette.requests import Request

from index.language import detect, primary_subtag

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"
# Page language code → the BCP 47 tag for <html lang> (Simplified Chinese written as such).
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
NAMES = {"en": "English", "zh": "中文"}  # each language named in itself, for the switch


def N_(message: str) -> str:
    """Marks a string for extraction (pybabel) where it is translated later, at render time."""
    return message


# Filter labels of the default corpus (its folders and tags), so the chips read naturally in Chinese.
# A corpus with other tags shows them as written.
FILTER_NAMES = [
    N_("online"),
    N_("offline"),
    N_("international"),
    N_("tips"),
    N_("overview"),
    N_("app"),
    N_("community"),
    N_("website"),
    N_("doctors"),
    N_("patient group"),
    N_("wechat"),
    N_("social media"),
    N_("how to"),
    N_("i-131"),
    N_("surgery"),
    N_("q and a"),
    N_("diaries"),
    N_("emotional support"),
    N_("forum"),
    N_("caregivers"),
    N_("safety"),
    N_("prognosis"),
    N_("reassurance"),
    N_("recovery"),
    N_("wellbeing"),
    N_("organisation"),
    N_("english"),
    N_("uk"),
    N_("information"),
    N_("support"),
    N_("support group"),
    N_("hospital"),
    N_("in person"),
    N_("national"),
    N_("lectures"),
]


KNOWN_FILTER_NAMES = frozenset(FILTER_NAMES)


def load_catalogs(directory: Path = LOCALES) -> dict[str, gettext.NullTranslations]:
    """Every language's catalog, English (the source language) as the identity."""
    catalogs: dict[str, gettext.NullTranslations] = {DEFAULT: gettext.NullTranslations()}
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        catalogs[lang] = gettext.GNUTranslations(buffer)
    return catalogs


def normalize(tag: str | None) -> str | None:
    """'zh', 'zh-Hans', 'zh-CN', 'zh_TW' → 'zh'; 'en-GB' → 'en'; anything else → None."""
    if not tag:
        return None
    base = primary_subtag(tag)
    return base if base in HTML_LANG else None


def accept_language(header: str | None) -> str | None:
    """The reader's most preferred language that Beacon speaks, from an Accept-Language header."""
    choices = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        lang = normalize(tag)
        if lang and quality > 0:
            choices.append((-quality, position, lang))
    return min(choices)[2] if choices else None


def page_language(request: Request, question: str | None = None) -> str:
    """The language a page speaks: ?lang=, else the question's own (Chinese by the rule search uses,
    index.language.detect, so the page speaks the language its answer comes in), else Accept-Language,
    else English."""
    explicit = normalize(request.query_params.get("lang"))
    if explicit:
        return explicit
    if question and detect(question) == "zh":
        return "zh"
    return accept_language(request.headers.get("accept-language")) or DEFAULT


def same_site_path(path: str) -> str:
    """A request path as a link that stays on this site. The 404 page for `//evil.example/x` echoed its
    path into the language switch, a protocol-relative link off-site (browsers read `/\\` as `//` too):
    the path is percent-encoded (a backslash becomes %5C) and its leading slashes collapsed to one."""
    return "/" + quote(path, safe="/:@!$&'()*+,;=~").lstrip("/")


def page_context(request: Request) -> dict:
    """What every template gets (a Jinja2Templates context processor): the language and the switch."""
    question = request.query_params.get("q")
    lang = page_language(request, question)
    # Links carry ?lang= only when the reader's browser would not pick this language by itself.
    implied = accept_language(request.headers.get("accept-language")) or DEFAULT
    keep = lang if (normalize(request.query_params.get("lang")) or lang != implied) else None
    other = "en" if lang == "zh" else "zh"
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "thanks")]
    switch_url = same_site_path(request.url.path) + "?" + urlencode(params + [("lang", other)])
    return {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "keep_lang": keep,
        "switch": {"url": switch_url, "name": NAMES[other], "html_lang": HTML_LANG[other]},
    }


def install(env: Environment, catalogs: dict[str, gettext.NullTranslations]) -> None:
    """Jinja2's i18n extension, translating each render into its context's `lang`."""
    env.add_extension("jinja2.ext.i18n")

    def catalog(context) -> gettext.NullTranslations:
        return catalogs.get(context.get("lang") or DEFAULT, catalogs[DEFAULT])

    @pass_context
    def _gettext(context, message: str) -> str:
        return catalog(context).gettext(message)

    @pass_context
    def _ngettext(context, singular: str, plural: str, n: int) -> str:
        return catalog(context).ngettext(singular, plural, n)

    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)

    @pass_context
    def lang_url(context, path: str, **params) -> str:
        """An internal link that keeps the page's language when it had to be asked for."""
        query = {k: v for k, v in params.items() if v not in (None, "", [])}
        if context.get("keep_lang"):
            query["lang"] = context["keep_lang"]
        return path + ("?" + urlencode(query, doseq=True) if query else "")

    env.globals["lang_url"] = lang_url

    @pass_context
    def filter_name(context, label: str) -> str:
        """A filter chip's words: the reader's language for the default corpus's labels, else the label
        as written (dashes as spaces). Corpus text never goes through `_()`: newstyle gettext marks its
        result safe (a tag `<a href=…>` became a live link) and formats it with `%` (a tag `100%` made
        every question page a 500)."""
        words = label.replace("-", " ")  # social-media reads "social media"
        return catalog(context).gettext(words) if words in KNOWN_FILTER_NAMES else words

    env.globals["filter_name"] = filter_name

    @pass_context
    def local_href(context, url: str) -> str:
        """lang_url for a link that may lead to the site's own page (left as it is) or carry a #fragment."""
        if not url.startswith("/"):
            return url
        path, _, fragment = url.partition("#")
        path, _, query = path.partition("?")  # /source/x?site=notes on a server with several sites
        return lang_url(context, path, **dict(parse_qsl(query))) + (f"#{fragment}" if fragment else "")

    env.globals["local_href"] = local_href


def translate(catalogs: dict[str, gettext.NullTranslations], lang: str, message: str) -> str:
    """A message for Python code (an error page's text) in the page's language."""
    return catalogs.get(lang, catalogs[DEFAULT]).gettext(message)

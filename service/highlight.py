"""Mark the query's words in a passage, escaping everything so corpus or query HTML stays text."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from ingest.text import CJK_RUN, find_in_passage, split_blocks

# Words too common to be worth marking; matching them would paint every passage yellow.
STOPWORDS = frozenset(
    """
a an and are as at be by can do does for from how i in is it me my of on or the to what where
who why will with you your about there this that which when should would could am was were
""".split()
)
_WORD = re.compile(r"[\w][\w'-]*", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """Words (and CJK character pairs) of the query worth highlighting, longest first."""
    terms: set[str] = set()
    for run in CJK_RUN.findall(query):
        if len(run) == 1:
            terms.add(run)
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(CJK_RUN.sub(" ", query)):
        w = word.lower().strip("'-")
        if len(w) >= 2 and w not in STOPWORDS:
            terms.add(w)
    return sorted(terms, key=len, reverse=True)


def highlight(text: str, query: str) -> Markup:
    """Escaped text with <mark> around matches; matches are found in the raw text, then escaped."""
    terms = query_terms(query)
    if not terms:
        return escape(text)
    latin = [t for t in terms if not CJK_RUN.search(t)]
    cjk = [t for t in terms if CJK_RUN.search(t)]
    alternatives = []
    if latin:
        alternatives.append(r"(?<![\w])(?:" + "|".join(re.escape(t) for t in latin) + r")\w*")
    if cjk:
        alternatives.append("|".join(re.escape(t) for t in cjk))
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def highlight_answer(text: str, query: str, answer: str | None) -> Markup:
    """Like highlight, with the answer sentences inside the passage wrapped in <strong class="answer-span">."""
    span = find_in_passage(answer or "", text)
    if not span:
        return highlight(text, query)
    start, end = span
    return (
        highlight(text[:start], query)
        + Markup('<strong class="answer-span">')
        + highlight(text[start:end], query)
        + Markup("</strong>")
        + highlight(text[end:], query)
    )


def _marked(text: str, query: str, start: int, end: int) -> Markup:
    """highlight(), with text[start:end] (the answer's part of this block) in <strong class="answer-span">."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if start >= end:
        return highlight(text, query)
    return (
        highlight(text[:start], query)
        + Markup('<strong class="answer-span">')
        + highlight(text[start:end], query)
        + Markup("</strong>")
        + highlight(text[end:], query)
    )


def passage_html(text: str, query: str, answer: str | None = None) -> Markup:
    """A passage (or an answer) as HTML: each prose block a <p>, each code block (ingest/text.py's fenced
    form) a <pre><code> without its fences; the query's words marked and the answer's sentences in
    <strong class="answer-span">, across blocks. Every piece of text is escaped before markup is added."""
    span = find_in_passage(answer or "", text) or (0, 0)
    out, at = [], 0
    for block in split_blocks(text):
        if block.code:
            start = at + len(block.text.split("\n", 1)[0]) + 1
            body = block.body
            inner = _marked(body, query, span[0] - start, span[1] - start)
            attrs = Markup(' class="language-{}"').format(block.lang) if block.lang else Markup("")
            out.append(Markup("<pre><code{}>{}</code></pre>").format(attrs, inner))
        elif block.text.strip():
            out.append(Markup("<p>{}</p>").format(_marked(block.text, query, span[0] - at, span[1] - at)))
        at += len(block.text) + 1
    return Markup("").join(out)

"""Small text helpers shared by the readers and the chunker."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# CJK scripts: kana, the unified ideographs (extension A and the basic block), compatibility ideographs and
# Hangul. The one definition for BM25's tokens, highlighting, language detection and the answer model;
# widget.js keeps a copy for its highlighting (tests/service/test_widget_rules.py checks they are equal).
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")


def cjk_share(text: str) -> float:
    """The share of the text's non-space characters that are CJK (a feature of the answer model, and
    what tells a Chinese question from an English one)."""
    letters = [ch for ch in text if not ch.isspace()]
    return sum(1 for ch in letters if CJK_RUN.match(ch)) / len(letters) if letters else 0.0


# Closing quotes and brackets after a full stop stay with their sentence: a lookbehind has a fixed
# width in `re`, so up to two of them are spelled out.
_SENTENCE_END = re.compile(
    r"""(?<=[.!?…])\s+(?=\S)                              # Latin sentence end followed by space
    | (?<=[.!?…]["'”’)\]])\s+(?=\S)                      # ... after a closing quote or bracket
    | (?<=[.!?…]["'”’)\]]["'”’)\]])\s+(?=\S)            # ... or two
    | (?<=[。！？；])                                     # CJK full stops need no space
    | \n+                                                # a line break ends a list item or paragraph
    """,
    re.VERBOSE,
)


def find_in_passage(answer: str, passage: str) -> tuple[int, int] | None:
    """Where the answer stands in its passage (start, end), whatever white space the passage has between
    its words, or None. The one rule for the extractive answer (index/search.py) and for marking it on
    the page (service/highlight.py). \\s* rather than \\s+: Chinese sentences follow each other with
    no space in the passage, and the answer joins them with one."""
    words = answer.split()
    match = re.search(r"\s*".join(re.escape(w) for w in words), passage) if words else None
    return match.span() if match else None


def solid_length(text: str) -> int:
    """How many characters of the text are not white space: a position that survives re-spacing
    (chunking joins and strips the white space between sentences)."""
    return len("".join(text.split()))


def split_sentences(text: str) -> list[str]:
    """Split on sentence ends (Latin and CJK punctuation) and line breaks, keeping punctuation; a code
    block (see split_blocks) is one sentence, fences included, so an answer cut from it is still code."""
    out = []
    for block in split_blocks(text):
        if block.code:
            out.append(block.text)
        else:
            out.extend(p for p in (p.strip() for p in _SENTENCE_END.split(block.text)) if p)
    return out


# A code block in a section's text, as every reader writes it (code_block): a line of three or more
# backticks, optionally followed by the language, the code lines verbatim, then the same backticks
# alone on a line. A Markdown fence in the text of a page is never prose, so the form is unambiguous.
_FENCE = re.compile(r"^(`{3,})([^`\s]*)[ \t]*$")


@dataclass(frozen=True)
class Block:
    """A run of lines of a section's text: prose, or one code block (text with its fences)."""

    text: str
    code: bool = False
    lang: str = ""

    @property
    def body(self) -> str:
        """The code without its fences (prose: the text)."""
        if not self.code:
            return self.text
        lines = self.text.split("\n")[1:]
        if lines and _FENCE.match(lines[-1]) and lines[-1].strip("`") == "":
            lines = lines[:-1]
        return "\n".join(lines)


def code_block(code: str, lang: str = "") -> str:
    """The code in the section-text form; the fence is longer than any backtick line inside."""
    code = code.strip("\n")
    inner = max((len(m) for m in re.findall(r"^[ \t]*(`{3,})", code, re.M)), default=0)
    fence = "`" * max(3, inner + 1)
    lang = re.sub(r"[`\s]", "", lang)
    return f"{fence}{lang}\n{code}\n{fence}"


def split_blocks(text: str) -> list[Block]:
    """The text as prose and code blocks, in order; joining their texts with '\\n' gives the text back.
    An opening fence that is never closed (a passage cut inside a block) runs to the end."""
    lines = text.split("\n")
    blocks: list[Block] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            prose.append(lines[i])
            i += 1
            continue
        if prose:
            blocks.append(Block("\n".join(prose)))
            prose = []
        fence = opening.group(1)
        close = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == fence), len(lines) - 1)
        blocks.append(Block("\n".join(lines[i : close + 1]), code=True, lang=opening.group(2)))
        i = close + 1
    if prose:
        blocks.append(Block("\n".join(prose)))
    return blocks


def slugify(text: str) -> str:
    """A URL fragment that keeps CJK letters, so Chinese headings get readable anchors. Underscores are
    kept, as MkDocs (toc), GitHub and Hugo keep them: 'allow_origins' is '#allow_origins' on their pages."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"[\s-]+", "-", text).strip("-")
    return text or "section"


# Link schemes that take a reader to a web page, the one list for Markdown's links and `beacon check`.
WEB_SCHEMES = ("http", "https")


def is_web_url(href: str) -> bool:
    """An absolute http(s) address (http://..., https://...)."""
    return href.strip().lower().startswith(tuple(f"{scheme}://" for scheme in WEB_SCHEMES))


# What reaches a terminal from files or readers: C0 and C1 controls (ESC starts a sequence that can clear
# the screen, retitle the window or forge a link), DEL, and the bidirectional overrides that reorder what
# is shown. Each is printed as its \x / \u escape, so the text is still there to see.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text safe for a terminal: control characters written as escapes (`\x1b`), nothing else changed. The
    one rule for `beacon report`'s rows and the file names that `check` and `build` list."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)

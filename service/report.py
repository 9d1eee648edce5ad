"""The curators' report as data: what /admin shows and `beacon report --html` writes, from the curators'
log (querylog.py), with the unanswered questions grouped by meaning (clusters.py) and each group's
nearest passage found by the live index. Plain data, so the page, the file and the CSV downloads
share one definition of every number."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from index.language import detect
from index.search import Searcher
from ingest.models import LABEL_SEPARATOR

from . import querylog
from .charts import Series, stacked_bars
from .clusters import Asked as Question
from .clusters import group_questions
from .site import passage_link, public_url
from .sites import with_site

# Bounds on one report's work: the unanswered questions grouped (the most asked first) and the groups
# shown, each with one search for its nearest passage. Measured on the 2 shared cores of the dev
# machine: 500 distinct questions (400 English, 100 Chinese) make a report in 3.3 s (encoding 400
# English questions alone 2.6 s); a log past that is grouped on its most asked questions.
MAX_GROUPED = 500
MAX_GROUPS = 20
EXAMPLES = 3
ROWS = 50  # rows per table


@dataclass(frozen=True)
class Passage:
    title: str
    href: str
    confidence: float


@dataclass(frozen=True)
class GapGroup:
    size: int  # times asked, all its questions together
    examples: tuple[str, ...]
    questions: int  # distinct questions in it
    languages: tuple[str, ...]
    nearest: Passage | None
    site: str | None = None  # on a log of several sites, the site its most asked question was asked on


@dataclass(frozen=True)
class UnhelpfulRow:
    passage: str
    href: str
    kind: str
    times: int
    question: str
    site: str | None = None


@dataclass(frozen=True)
class Chart:
    svg: Markup
    top: int  # the scale's top value
    first: str  # first and last day shown
    last: str


@dataclass(frozen=True)
class Report:
    days: int
    made_at: float
    daily: list[querylog.DayCounts]
    questions_chart: Chart
    unhelpful_chart: Chart
    asked: int
    answered: int
    helpful_votes: int
    unhelpful_votes: int
    groups: list[GapGroup]
    unhelpful: list[UnhelpfulRow]
    most_asked: list[querylog.Asked]
    languages: list[tuple[str, int]]
    filters: list[tuple[str, int]]
    site: str | None = None  # the one site reported on; None for every site (or a one-site log)

    @property
    def several_sites(self) -> bool:
        """Rows from a server with several sites: the tables say each row's site."""
        rows = [*self.groups, *self.unhelpful, *self.most_asked]
        return any(r.site is not None for r in rows)


def _chart(daily: list[querylog.DayCounts], series: list[Series], title: Callable) -> Chart:
    svg, top = stacked_bars([d.day for d in daily], series, [title(d) for d in daily])
    return Chart(svg, top, daily[0].day if daily else "", daily[-1].day if daily else "")


class Sites:
    """Where a row's passages are looked up and linked: `searcher` on a one-site log; on a log of several
    sites the searcher of the row's site (`by_key`, NAME or NAME@VERSION), its passages on /source/
    linked with ?site=."""

    def __init__(self, searcher: Searcher | None, by_key: dict[str, Searcher] | None, base: str):
        self.searcher, self.by_key, self.base = searcher, by_key or {}, base

    def searcher_of(self, site: str | None) -> Searcher | None:
        return self.by_key.get(site, self.searcher) if site else self.searcher

    def href(self, site: str | None, doc_id: str, anchor: str, target: str = "") -> str:
        searcher = self.searcher_of(site)
        documents = searcher.stored.documents if searcher is not None else {}
        url = passage_link(documents, doc_id, anchor, target, base=self.base)
        return with_site(url, site) if site and not public_url(documents, doc_id, target or anchor) else url

    def passage_href(self, site: str | None, passage: str) -> str:
        doc_id, _, anchor = passage.partition("#")
        return self.href(site, doc_id, anchor)


def build_report(
    path: Path,
    days: int,
    searcher: Searcher | None,
    retention_days: int | None = None,
    base: str = "",
    now: float | None = None,
    site: str | None = None,
    sites: dict[str, Searcher] | None = None,
) -> Report:
    """`searcher` finds each group's nearest passage and embeds the questions (its model); `base` makes
    /source/ links absolute (BEACON_PUBLIC_URL), for a file read away from the service. On a log of
    several sites, `site` reports on one site's rows only (NAME: every version) and `sites` (each site's
    searcher by key) finds and links each row's passages in its own site."""
    now = time.time() if now is None else now
    window = dict(days=days, now=now, retention_days=retention_days, site=site)
    daily = querylog.daily_counts(path, **window)
    lookup = Sites(searcher, sites, base)
    helpful_votes, unhelpful_votes = querylog.helpful_counts(path, **window)
    asked_all = querylog.report_asked(path, limit=1_000_000, **window)
    languages = Counter()
    for a in asked_all:
        languages[detect(a.question)] += a.times
    return Report(
        days=min(days, retention_days) if retention_days else days,
        made_at=now,
        daily=daily,
        questions_chart=_chart(
            daily,
            [
                Series("bar-answered", [d.answered for d in daily]),
                Series("bar-unanswered", [d.unanswered for d in daily]),
            ],
            lambda d: f"{d.day}: {d.asked} asked, {d.answered} answered, {d.unanswered} unanswered",
        ),
        unhelpful_chart=_chart(
            daily, [Series("bar-unhelpful", [d.unhelpful for d in daily])], lambda d: f"{d.day}: {d.unhelpful}"
        ),
        asked=sum(d.asked for d in daily),
        answered=sum(d.answered for d in daily),
        helpful_votes=helpful_votes,
        unhelpful_votes=unhelpful_votes,
        groups=_groups(path, window, lookup),
        unhelpful=[
            UnhelpfulRow(u.passage, lookup.passage_href(u.site, u.passage), u.kind, u.times, u.question, u.site)
            for u in querylog.report_unhelpful(path, limit=ROWS, **window)
        ],
        most_asked=asked_all[:ROWS],
        languages=languages.most_common(),
        filters=querylog.filter_counts(path, **window),
        site=site,
    )


def _groups(path: Path, window: dict, lookup: Sites) -> list[GapGroup]:
    gaps = querylog.report_gaps(path, limit=MAX_GROUPED, **window)
    if not gaps or lookup.searcher is None:
        return [GapGroup(g.times, (g.question,), 1, (detect(g.question),), None, g.site) for g in gaps[:MAX_GROUPS]]
    asked_on: dict[str, str | None] = {}  # each question's site: the one it was most often unanswered on
    for g in gaps:
        asked_on.setdefault(g.question, g.site)
    groups = group_questions([Question(g.question, g.times) for g in gaps], lookup.searcher.embedder.encode)
    out = []
    for group in groups[:MAX_GROUPS]:
        top = group.questions[0].question
        site = asked_on.get(top)
        hits = lookup.searcher_of(site).search(top, k=1).hits
        nearest = None
        if hits:
            chunk = hits[0].chunk
            href = lookup.href(site, chunk.doc_id, chunk.anchor, chunk.target)
            where = (
                chunk.title if chunk.section in ("", chunk.title) else f"{chunk.title}{LABEL_SEPARATOR}{chunk.section}"
            )
            nearest = Passage(where, href, hits[0].confidence)
        examples = tuple(q.question for q in group.questions[:EXAMPLES])
        out.append(GapGroup(group.size, examples, len(group.questions), group.languages, nearest, site))
    return out


# --- CSV: one download per table ----------------------------------------------------------------


def _cell(value) -> str:
    # Readers type the questions: a cell starting with = + - @ would run as a formula in a spreadsheet.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_tables(report: Report) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table of the report: name → (header, rows); rows of several sites end with their site."""
    tables = {
        "per-day": (
            ["day", "asked", "answered", "unanswered", "marked_unhelpful"],
            [(d.day, d.asked, d.answered, d.unanswered, d.unhelpful) for d in report.daily],
        ),
        "unanswered-groups": (
            ["times_asked", "questions", "languages", "examples", "nearest_passage", "nearest_link", "confidence"],
            [
                (
                    g.size,
                    g.questions,
                    " ".join(g.languages),
                    " | ".join(g.examples),
                    g.nearest.title if g.nearest else "",
                    g.nearest.href if g.nearest else "",
                    f"{g.nearest.confidence:.2f}" if g.nearest else "",
                )
                for g in report.groups
            ],
        ),
        "unhelpful": (
            ["times", "kind", "passage", "link", "question"],
            [(u.times, u.kind, u.passage, u.href, u.question) for u in report.unhelpful],
        ),
        "most-asked": (
            ["times", "share_answered", "question"],
            [(a.times, f"{a.answered_share:.2f}", a.question) for a in report.most_asked],
        ),
        "languages": (["language", "times"], report.languages),
        "filters": (["filter", "times"], report.filters),
    }
    if report.several_sites:
        for name, items in (
            ("unanswered-groups", report.groups),
            ("unhelpful", report.unhelpful),
            ("most-asked", report.most_asked),
        ):
            header, rows = tables[name]
            tables[name] = (header + ["site"], [(*row, item.site or "") for row, item in zip(rows, items)])
    return tables


def to_csv(header: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


# --- one self-contained file: `beacon report --html` -------------------------------------------------

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"


def render_html(report: Report, site: dict, lang: str = "en") -> str:
    """The dashboard's page as one file to mail: its CSS inline, its charts inline SVG, no script and
    nothing fetched from anywhere; the same template as /admin, without the sign-out and CSV links."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from . import i18n

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    i18n.install(env, i18n.load_catalogs())
    css = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in ("style.css", "admin.css"))
    copy = {**site["copy"], **(site.get("translations") or {}).get(lang, {})}
    return env.get_template("admin.html").render(
        report=report,
        made=time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.made_at)),
        standalone=True,
        inline_css=Markup(css),
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        keep_lang=None,
        names=i18n.NAMES,
        site=site,
        copy=copy,
    )

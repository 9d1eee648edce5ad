"""Bar charts drawn as SVG on the server: no script, no chart library, nothing from another origin, so the
page keeps its strict CSP (no inline style either: colours come from classes in admin.css) and the
same markup works inside the self-contained `beacon report --html` file.

The SVG holds only shapes and stretches to the page's width (preserveAspectRatio="none"); its words
(the scale, the first and last day) are HTML around it, so they stay readable on a 360 px phone. Each
chart is `aria-hidden`: its numbers are in a table beside it, which screen readers read instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 160
GAP = 0.2  # share of each day's slot left empty between bars


@dataclass(frozen=True)
class Series:
    css_class: str  # e.g. "bar-answered": its colour in admin.css, light and dark
    values: Sequence[int]


def nice_max(value: int) -> int:
    """The chart's top: the largest value rounded up to 1, 2 or 5 times a power of ten (never 0)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if value <= top * step:
                return top * step
        top *= 10


def stacked_bars(labels: Sequence[str], series: Sequence[Series], titles: Sequence[str]) -> tuple[Markup, int]:
    """An SVG of one stacked bar per label (series drawn bottom up) and the scale's top value.
    `titles` gives each bar a tooltip."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = nice_max(max(totals, default=0))
    slot = WIDTH / max(len(labels), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" aria-hidden="true" '
        'focusable="false">'  # inline in HTML: no namespace declaration needed
    ]
    for y in (0.25, 0.5, 0.75):  # quiet guide lines at quarters of the scale
        level = HEIGHT * y
        parts.append(
            f'<line class="grid" x1="0" x2="{WIDTH}" y1="{level:.1f}" y2="{level:.1f}" '
            'vector-effect="non-scaling-stroke"/>'
        )
    for i, title in enumerate(titles):
        x, base = i * slot + slot * GAP / 2, HEIGHT
        parts.append(f"<g><title>{escape(title)}</title>")
        for s in series:
            height = HEIGHT * s.values[i] / top
            if height > 0:
                base -= height
                parts.append(
                    f'<rect class="{s.css_class}" x="{x:.2f}" y="{base:.2f}" '
                    f'width="{slot * (1 - GAP):.2f}" height="{height:.2f}"/>'
                )
        parts.append("</g>")
    parts.append(
        f'<line class="axis" x1="0" x2="{WIDTH}" y1="{HEIGHT}" y2="{HEIGHT}" vector-effect="non-scaling-stroke"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts)), top

"""axe-core in a real chromium: no serious or critical violations on the page (empty and answered), a source
page, the 404 page and the widget (inline with results, and the modal open), in light and dark, at 360 px and
1280 px, in English and Chinese, on the small test guide. axe comes from npm (`make node`), injected into each page."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
QUESTIONS = {"en": "where can I talk to people about H-alpha", "zh": "刚买了第一台望远镜，心里没底，有没有人可以聊聊"}
COMBINATIONS = list(itertools.product(["light", "dark"], [360, 1280], ["en", "zh"]))

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " "))}));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `make node` (npm ci) in the repository root")
    return AXE.read_text(encoding="utf-8")


def check(page, axe_source: str, what: str, problems: list[str]) -> None:
    page.add_script_tag(content=axe_source)
    for v in page.evaluate(RUN_AXE):
        problems.append(f"{what}: {v['impact']} {v['id']} ({v['help']})\n    " + "\n    ".join(v["nodes"]))


@pytest.mark.parametrize("scheme, width, lang", COMBINATIONS, ids=[f"{s}-{w}-{l}" for s, w, l in COMBINATIONS])
def test_axe_finds_nothing_serious(browser, guide_server, axe_source, scheme, width, lang):
    # bypass_csp: axe is injected as an inline script, which the pages' CSP rightly refuses.
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        color_scheme=scheme,
        bypass_csp=True,
        locale="zh-CN" if lang == "zh" else "en-US",
    )
    page = context.new_page()
    base, problems = guide_server.url, []
    try:
        page.goto(f"{base}/?lang={lang}")
        assert page.get_attribute("html", "lang") == ("zh-Hans" if lang == "zh" else "en")
        check(page, axe_source, "empty page", problems)

        page.goto(f"{base}/?lang={lang}&q={QUESTIONS[lang]}")
        page.wait_for_selector(".results .doc")
        check(page, axe_source, "answered page", problems)

        page.goto(f"{base}/source/online/skyglass?lang={lang}")
        check(page, axe_source, "source page", problems)

        page.goto(f"{base}/source/no-such-document?lang={lang}")
        check(page, axe_source, "404 page", problems)

        page.goto(f"{base}/widget/demo")
        page.wait_for_function("customElements.get('beacon-search') !== undefined")
        page.evaluate(
            "l => document.querySelectorAll('beacon-search').forEach(w => w.setAttribute('lang', l))",
            "zh-Hans" if lang == "zh" else "en",
        )
        inline = page.locator("beacon-search").first
        inline.locator("input").fill(QUESTIONS[lang])
        inline.locator(".doc").first.wait_for()
        status = inline.locator("[role=status]")
        assert ("条结果" if lang == "zh" else "result") in status.text_content()
        check(page, axe_source, "widget inline with results", problems)

        page.locator("beacon-search[mode=modal]").locator("button.open").click()
        page.locator("beacon-search[mode=modal]").locator("dialog[open]").wait_for()
        check(page, axe_source, "widget modal open", problems)
    finally:
        context.close()
    assert not problems, f"axe ({scheme}, {width}px, {lang}):\n" + "\n".join(problems)


def test_feedback_is_announced_in_the_page_language(browser, guide_server):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{guide_server.url}/?q={QUESTIONS['zh']}")
        page.locator(".feedback button[value=yes]").first.click()
        page.wait_for_selector(".feedback-thanks")
        assert page.locator("#status").text_content().startswith("谢谢你")
        assert page.locator("#status").get_attribute("aria-live") == "polite"

        page.goto(f"{guide_server.url}/widget/demo")
        page.wait_for_function("customElements.get('beacon-search') !== undefined")
        widget = page.locator("beacon-search").first
        widget.evaluate("w => w.setAttribute('lang', 'zh-Hans')")
        widget.locator("input").fill(QUESTIONS["zh"])
        widget.locator(".fb button[data-helpful=no]").first.click()
        status = widget.locator("[role=status]")
        assert status.text_content().startswith("谢谢你") and status.get_attribute("aria-live") == "polite"
    finally:
        context.close()


def test_filter_chip_without_reload_and_without_javascript(browser, guide_server):
    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        try:
            page.goto(f"{guide_server.url}/?q={QUESTIONS['en']}")
            page.check(".filters input[value=tips]")
            if not javascript:
                page.click(".filters .apply")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.results .doc h2 a')].length > 0 && "
                "[...document.querySelectorAll('.results .doc h2 a')].every(a => "
                "a.getAttribute('href').startsWith('/source/tips/'))"
            )
            assert "tag=tips" in page.url
            assert page.is_checked(".filters input[value=tips]")
        finally:
            context.close()


def test_widget_filter_attribute_restricts_its_results(browser, guide_server):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{guide_server.url}/widget/demo")
        page.wait_for_function("customElements.get('beacon-search') !== undefined")
        widget = page.locator("beacon-search").first
        widget.evaluate("w => w.setAttribute('filter', 'tips, international')")
        widget.locator("input").fill(QUESTIONS["en"])
        widget.locator(".doc").first.wait_for()
        hrefs = widget.locator("a.hit").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs and all(("/source/tips/" in h or "/source/international/" in h) for h in hrefs), hrefs
    finally:
        context.close()

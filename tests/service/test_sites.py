"""Several sites in one process (docs/sites.md): the default guide and a small Markdown site, each asked
alone and both together over real HTTP, one rebuilt while the other keeps answering.

Python's docs (python3-doc) are not one of the sites here: they take too long to build on the test
machine; the Markdown site stands in for a second, unrelated corpus."""

from __future__ import annotations

import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import DEFAULT_CORPUS, LiveServer, make_settings, run_beacon, write_corpus

pytestmark = pytest.mark.server

GARDEN = {
    "bulbs.md": """\
        ---
        title: Planting tulip bulbs
        ---
        Plant tulip bulbs in autumn, about fifteen centimetres deep, pointed end up, before the first frost.

        ## Watering
        Water the bulbs once after planting; autumn rain does the rest until spring.
        """,
    "compost.md": """\
        ---
        title: Making compost
        ---
        A compost heap needs green kitchen scraps and brown dry leaves in equal parts, turned every two weeks.
        """,
}
GUIDE_QUESTION = "where can I talk to people about I-131"
GARDEN_QUESTION = "how deep do I plant tulip bulbs"


def server_file(path: Path, sites: dict[str, tuple[Path, Path]]) -> Path:
    path.write_text(
        "".join(
            f'[sites.{name}]\ncorpus = "{corpus}"\nindex = "{index}"\n\n' for name, (corpus, index) in sites.items()
        )
    )
    return path


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory, default_index, embedder):
    """A server file with the guide (the session's default index) and the garden site, built here."""
    from index import build_index

    root = tmp_path_factory.mktemp("sites")
    garden = write_corpus(root / "garden", GARDEN)
    build_index(garden, root / "garden-index", embedder)
    return server_file(
        root / "server.toml", {"guide": (DEFAULT_CORPUS, default_index), "garden": (garden, root / "garden-index")}
    )


@pytest.fixture(scope="module")
def served(two_sites, default_index, embedder):
    from service.app import create_app

    settings = make_settings(default_index, sites_file=two_sites, reload_interval=0.2)
    with LiveServer(create_app(settings, embedder=embedder)) as s:
        yield s


@pytest.fixture(scope="module")
def server(served):
    with httpx.Client(base_url=served.url, timeout=60) as client:
        yield client


def test_each_site_answers_alone_with_its_own_passages(server):
    garden = server.get("/api/search", params={"q": GARDEN_QUESTION, "site": "garden"}).json()
    assert {r["site"] for r in garden["results"]} == {"garden"}
    assert garden["results"][0]["title"] == "Planting tulip bulbs"
    assert garden["sites"] == {"garden": len(garden["results"])}
    guide = server.get("/api/search", params={"q": GUIDE_QUESTION, "site": "guide"}).json()
    assert {r["site"] for r in guide["results"]} == {"guide"}
    assert guide["answer"] is not None


def test_all_sites_together_put_each_question_on_its_own_site_first(server):
    for question, site in ((GARDEN_QUESTION, "garden"), (GUIDE_QUESTION, "guide")):
        body = server.get("/api/search", params={"q": question, "k": 8}).json()
        assert set(body["sites"]) == {"guide", "garden"}
        assert body["results"][0]["site"] == site, (question, [(r["site"], r["title"]) for r in body["results"]])
        if body["answer"] is not None:
            assert body["results"][body["answer"]["result"]]["site"] == site
    both = server.get("/api/search", params={"q": GARDEN_QUESTION, "site": "guide,garden"}).json()
    assert both["results"][0]["site"] == "garden"


def test_a_passage_without_a_public_page_links_to_its_own_sites_source_page(server):
    body = server.get("/api/search", params={"q": GARDEN_QUESTION}).json()
    url = next(r["url"] for r in body["results"] if r["site"] == "garden")
    assert url.startswith("/source/bulbs?site=garden#")
    page = server.get(url.split("#")[0])
    assert page.status_code == 200 and "fifteen centimetres" in page.text
    assert server.get("/source/bulbs", params={"site": "guide"}).status_code == 404
    assert server.get("/source/bulbs", params={"site": "nope"}).status_code == 404


def test_an_unknown_site_is_a_422_naming_the_known_ones(server):
    r = server.get("/api/search", params={"q": GARDEN_QUESTION, "site": "gardn"})
    assert r.status_code == 422
    assert "gardn" in r.json()["detail"] and "garden" in r.json()["hint"] and "guide" in r.json()["hint"]
    page = server.get("/", params={"q": GARDEN_QUESTION, "site": "nope"})
    assert page.status_code == 422 and "nope" in page.text


def test_the_page_without_javascript_scopes_to_a_site_and_names_sites_over_all(server):
    one = server.get("/", params={"q": GARDEN_QUESTION, "site": "garden"})
    assert one.status_code == 200 and "fifteen centimetres" in one.text
    assert '<option value="garden" selected>' in one.text  # the next question stays on the site
    guide_only = server.get("/", params={"q": GARDEN_QUESTION, "site": "guide"})
    assert "fifteen centimetres" not in guide_only.text
    everywhere = server.get("/", params={"q": GARDEN_QUESTION})
    assert "fifteen centimetres" in everywhere.text and "Site: garden" in everywhere.text


def test_metrics_count_searches_per_site_by_the_server_files_names_only(server):
    def counts() -> dict[str, float]:
        text = server.get("/metrics").text
        return {
            line.split('"')[1]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("beacon_site_searches_total{")
        }

    before = counts()
    server.get("/api/search", params={"q": GARDEN_QUESTION, "site": "garden"})
    server.get("/api/search", params={"q": GARDEN_QUESTION})
    server.get("/api/search", params={"q": GARDEN_QUESTION, "site": "made-up"})  # a 422: no label for it
    after = counts()
    assert set(after) == {"guide", "garden"}
    assert after["garden"] - before.get("garden", 0) == 2 and after["guide"] - before.get("guide", 0) == 1


def test_health_and_readiness_report_each_site(server):
    health = server.get("/healthz").json()
    assert set(health["sites"]) == {"guide", "garden"} and health["sites"]["garden"]["chunks"] >= 2
    ready = server.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["sites"]) == {"guide", "garden"}


def test_rebuilding_and_rolling_back_one_site_swaps_it_while_the_other_keeps_answering(server, two_sites, embedder):
    from index import build_index
    from service.sites import load_sites_file

    garden = load_sites_file(two_sites)["garden"]
    before = server.get("/healthz").json()["sites"]
    try:
        with asking_both_sites(server.base_url) as (answered, failures):
            (garden.corpus / "roses.md").write_text("---\ntitle: Pruning roses\n---\nPrune roses in late winter.\n")
            report = build_index(garden.corpus, garden.index, embedder)
            wait_for_garden(server, report.version)
            roses = server.get("/api/search", params={"q": "when do I prune roses", "site": "garden"}).json()
            assert roses["results"][0]["title"] == "Pruning roses"
            rollback = run_beacon("rollback", "--sites", str(two_sites), "--only", "garden")
            assert rollback.returncode == 0, rollback.stderr
            wait_for_garden(server, before["garden"]["version"])
    finally:
        (garden.corpus / "roses.md").unlink()
    after = server.get("/healthz").json()["sites"]
    assert after["guide"]["version"] == before["guide"]["version"]  # the other site was not touched
    assert failures == [] and {s for s, _ in answered} == {"guide", "garden"}


@contextmanager
def asking_both_sites(base_url):
    """Load on the guide and the garden until the block ends: yields the (site, status) of the answered
    requests and of the failed ones (an error, or no results)."""
    failures, answered, stop = [], [], threading.Event()

    def ask(site: str, question: str) -> None:
        with httpx.Client(base_url=str(base_url), timeout=60) as c:
            while not stop.is_set():
                r = c.get("/api/search", params={"q": question, "site": site})
                (answered if r.status_code == 200 and r.json()["results"] else failures).append((site, r.status_code))

    threads = [threading.Thread(target=ask, args=a) for a in (("guide", GUIDE_QUESTION), ("garden", GARDEN_QUESTION))]
    for t in threads:
        t.start()
    try:
        yield answered, failures
    finally:
        stop.set()
        for t in threads:
            t.join()


def wait_for_garden(server, version: str) -> None:
    deadline = time.monotonic() + 30
    while server.get("/healthz").json()["sites"]["garden"]["version"] != version:
        assert time.monotonic() < deadline, f"the garden site did not swap to {version}"
        time.sleep(0.2)


def test_a_one_site_server_answers_as_before_and_refuses_a_site(app_client):
    body = app_client.get("/api/search", params={"q": GUIDE_QUESTION}).json()
    assert "sites" not in body and all("site" not in r for r in body["results"])
    r = app_client.get("/api/search", params={"q": GUIDE_QUESTION, "site": "guide"})
    assert r.status_code == 422 and "one site" in r.json()["detail"]


def test_server_file_mistakes_are_named(tmp_path):
    from ingest.errors import BeaconError
    from service.sites import load_sites_file

    cases = {
        "[sites.\"Bad Name\"]\ncorpus = 'a'\n": "site name",
        "[sites.a]\nindex = 'x'\n": "needs corpus",
        "[sites.a]\ncorpus = 'a'\ncorpse = 'b'\n": "unknown keys corpse",
        "[sites.a]\ncorpus = 'a'\nindex = 'i'\n[sites.b]\ncorpus = 'b'\nindex = 'i'\n": "share an index",
        "title = 'x'\n": "no [sites.NAME]",
        "[sites.a\n": "server.toml",
    }
    for text, expected in cases.items():
        path = tmp_path / "server.toml"
        path.write_text(text)
        with pytest.raises(BeaconError) as e:
            load_sites_file(path)
        assert expected in str(e.value) and "server.toml" in str(e.value), text


def test_beacon_build_builds_every_site_or_only_the_named_one(two_sites, tmp_path):
    from index import current_version
    from service.sites import load_sites_file

    sites = load_sites_file(two_sites)
    garden_before = current_version(sites["garden"].index)
    guide_before = current_version(sites["guide"].index)
    which = run_beacon("versions", "--sites", str(two_sites))
    assert which.returncode == 1 and "choose one with --only: guide, garden" in which.stderr
    checked = run_beacon("check", "--sites", str(two_sites), "--only", "garden", "--no-model")
    assert checked.returncode == 0 and "would index 2 document(s)" in checked.stdout.lower(), (
        checked.stdout + checked.stderr
    )
    listed = run_beacon("versions", "--sites", str(two_sites), "--only", "garden")
    assert listed.returncode == 0 and f"* {garden_before}" in listed.stdout
    unknown = run_beacon("build", "--sites", str(two_sites), "--only", "nope", "-q")
    assert unknown.returncode == 1 and "no site 'nope'" in unknown.stderr and "garden" in unknown.stderr
    only = run_beacon("build", "--sites", str(two_sites), "--only", "garden", "--force", "-q")
    assert only.returncode == 0, only.stderr
    assert current_version(sites["garden"].index) != garden_before
    assert current_version(sites["guide"].index) == guide_before


PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
# Four pages of Python's docs (as tests/service/test_python_docs.py): the real reader and site file, a
# fraction of the full build's time (about 40 minutes for all of them on the test machine).
PYTHON_PAGES = ["tutorial/inputoutput.html", "tutorial/errors.html", "tutorial/classes.html", "faq/general.html"]


def test_beacon_build_and_serve_three_sites_the_guide_pythons_docs_and_markdown(two_sites, tmp_path):
    """What a new user runs (docs/sites.md): `beacon build --sites`, then `beacon serve --sites`."""
    from tests.helpers import ROOT, free_port, start_beacon, wait_until_ok

    if not (PYTHON_DOCS / PYTHON_PAGES[0]).is_file():
        pytest.skip("Python's docs are not installed: run 'make system' (apt-get install python3-doc)")
    example = (ROOT / "examples" / "python-docs.toml").read_text(encoding="utf-8")
    include = "include = [" + ", ".join(f'"{p}"' for p in PYTHON_PAGES) + "]\n"
    (tmp_path / "python-docs.toml").write_text(example.replace("exclude = [", include + "exclude = [", 1))
    three = tmp_path / "sites.toml"
    three.write_text(
        two_sites.read_text()
        + f'[sites.python]\ncorpus = "{PYTHON_DOCS}"\nsite = "python-docs.toml"\nindex = "python-index"\n'
    )
    built = run_beacon("build", "--sites", str(three), "--only", "python", "-q", timeout=900)
    assert built.returncode == 0, built.stderr
    port = free_port()
    proc = start_beacon("serve", "--sites", str(three), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ok(proc, url)

        def ask(question: str, **params) -> dict:
            return httpx.get(f"{url}/api/search", params={"q": question, **params}, timeout=60).json()

        garden = ask(GARDEN_QUESTION, site="garden")
        assert garden["results"][0]["title"] == "Planting tulip bulbs" and garden["results"][0]["site"] == "garden"
        guide = ask(GUIDE_QUESTION, site="guide")
        assert guide["results"][0]["site"] == "guide" and guide["answer"] is not None
        python = ask("how do I read a file line by line", site="python")
        assert python["results"][0]["url"].startswith("https://docs.python.org/3")
        everywhere = ask("how do I read a file line by line")
        assert set(everywhere["sites"]) == {"guide", "garden", "python"}
        assert everywhere["results"][0]["site"] == "python"
        assert ask(GARDEN_QUESTION)["results"][0]["site"] == "garden"
        assert set(httpx.get(f"{url}/healthz").json()["sites"]) == {"guide", "garden", "python"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_widget_on_a_host_page_searches_the_sites_it_names(browser, served, tmp_path):
    from playwright.sync_api import expect

    from tests.service.test_browser import StaticSite, _new_page, widget_input, widgets_page

    widgets = """<beacon-search id="garden" site="garden"></beacon-search>
<beacon-search id="both" site="guide, garden"></beacon-search>"""
    (tmp_path / "index.html").write_text(widgets_page(served.url, "Two sites", widgets), encoding="utf-8")
    with StaticSite(tmp_path) as host:
        page = _new_page(browser)
        try:
            page.goto(host.url + "/index.html")
            widget_input(page, "#garden").fill(GUIDE_QUESTION)
            widget_input(page, "#garden").press("Enter")
            expect(page.locator("beacon-search#garden li.doc").first).to_be_visible()
            assert set(page.locator("beacon-search#garden li.doc p.site").all_inner_texts()) == {"garden"}
            widget_input(page, "#both").fill(GARDEN_QUESTION)
            widget_input(page, "#both").press("Enter")
            first = page.locator("beacon-search#both li.doc").first
            expect(first.locator("h3")).to_have_text("Planting tulip bulbs")
            expect(first.locator("p.site")).to_have_text("garden")
        finally:
            page.context.close()


OLD_BULBS = {"bulbs.md": GARDEN["bulbs.md"].replace("fifteen centimetres", "ten centimetres")}


def versioned_sites(root: Path, default_index: Path, embedder) -> Path:
    """A server file: the guide, and a garden site with versions 1 (old advice) and 2 (current), built."""
    from index import build_index

    for version, files in (("1", OLD_BULBS), ("2", GARDEN)):
        build_index(write_corpus(root / f"garden-{version}", files), root / f"garden-{version}-index", embedder)
    (root / "server.toml").write_text(
        f'[sites.guide]\ncorpus = "{DEFAULT_CORPUS}"\nindex = "{default_index}"\n\n'
        '[sites.garden]\ncurrent = "2"\n'
        '[sites.garden.versions."1"]\ncorpus = "garden-1"\nindex = "garden-1-index"\n'
        '[sites.garden.versions."2"]\ncorpus = "garden-2"\nindex = "garden-2-index"\n'
    )
    return root / "server.toml"


@pytest.fixture(scope="module")
def versioned(tmp_path_factory, default_index, embedder):
    """The guide, and a garden site with versions 1 (old advice) and 2 (current), in one process."""
    from fastapi.testclient import TestClient

    from service.app import create_app
    from tests.helpers import LOCAL

    server_file = versioned_sites(tmp_path_factory.mktemp("versions"), default_index, embedder)
    settings = make_settings(default_index, sites_file=server_file)
    with TestClient(create_app(settings, embedder=embedder), base_url=LOCAL) as client:
        yield client


def test_a_site_with_versions_answers_from_its_current_one_unless_asked(versioned):
    def texts(**params) -> tuple[set, str]:
        body = versioned.get("/api/search", params={"q": GARDEN_QUESTION, **params}).json()
        garden = [r for r in body["results"] if r["site"] == "garden"]
        return {r["version"] for r in garden}, " ".join(r["text"] for r in garden)

    versions, text = texts(site="garden")
    assert versions == {"2"} and "fifteen centimetres" in text
    for params in ({"site": "garden", "version": "1"}, {"site": "garden@1"}):
        versions, text = texts(**params)
        assert versions == {"1"} and "ten centimetres" in text and "fifteen" not in text
    versions, text = texts()  # all sites: each one's current version
    assert versions == {"2"} and "ten centimetres" not in text
    r = versioned.get("/api/search", params={"q": GARDEN_QUESTION, "site": "garden", "version": "9"})
    assert r.status_code == 422 and "no version '9'" in r.json()["detail"] and "1, 2" in r.json()["hint"]


def test_the_page_says_which_version_it_searched_and_offers_the_others(versioned):
    page = versioned.get("/", params={"q": GARDEN_QUESTION, "site": "garden", "version": "1"})
    assert page.status_code == 200 and "ten centimetres" in page.text and "Version: 1" in page.text
    assert '<option value="garden@1" selected>' in page.text and '<option value="garden@2">' in page.text


def test_version_mistakes_in_the_server_file_are_named(tmp_path):
    from ingest.errors import BeaconError
    from service.sites import load_sites_file

    path = tmp_path / "server.toml"
    path.write_text('[sites.docs]\ncurrent = "3.13"\n[sites.docs.versions."3.12"]\ncorpus = "a"\n')
    with pytest.raises(BeaconError, match=r"current = one of its versions \(3.12\)"):
        load_sites_file(path)


def test_the_readmes_server_file_names_the_guide_and_pythons_docs_with_their_site_file():
    from service.sites import load_sites_file
    from tests.helpers import ROOT

    sites = load_sites_file(ROOT / "examples" / "sites.toml")
    assert list(sites) == ["guide", "python"]
    assert (
        sites["guide"].corpus.resolve() == DEFAULT_CORPUS and sites["guide"].index.resolve() == ROOT / ".beacon/index"
    )
    assert sites["python"].corpus == PYTHON_DOCS and sites["python"].site_file.is_file()


def test_the_page_with_javascript_searches_the_site_chosen_in_its_menu(browser, served):
    from playwright.sync_api import expect

    from tests.service.test_browser import _new_page

    page = _new_page(browser)
    try:
        page.goto(served.url + "/")
        page.locator("#q").fill(GARDEN_QUESTION)
        page.locator("#q").press("Enter")
        expect(page.locator(".site-name").first).to_have_text("Site: garden")  # all sites: each names its own
        page.locator("select[name=site]").select_option("guide")  # searches again at once
        expect(page).to_have_url(re.compile(r"site=guide"))
        expect(page.locator("#results")).not_to_contain_text("fifteen centimetres")
        page.locator("select[name=site]").select_option("garden")
        expect(page.locator("#results")).to_contain_text("fifteen centimetres")
        assert "site=garden" in page.url
    finally:
        page.context.close()


# --- The admin routes per site (?site=NAME) ---

ADMIN_TOKEN = "s3cret-admin-token-for-tests"
ORCHARD = {
    "pruning.md": """\
        ---
        title: Pruning apple trees
        ---
        Prune apple trees in late winter while they are dormant, cutting out crossing and dead branches.
        """,
}


@pytest.fixture(scope="module")
def admin_sites(tmp_path_factory, default_index, embedder):
    """The guide, the garden and an orchard, each of the last two with a corpus of its own that the tests
    edit; the admin routes on and polling off, so only the admin routes swap an index in."""
    from index import build_index
    from service.app import create_app

    root = tmp_path_factory.mktemp("admin-sites")
    named = {"guide": (DEFAULT_CORPUS, default_index)}
    for name, files in (("garden", GARDEN), ("orchard", ORCHARD)):
        build_index(write_corpus(root / name, files), root / f"{name}-index", embedder)
        named[name] = (root / name, root / f"{name}-index")
    settings = make_settings(
        default_index, sites_file=server_file(root / "server.toml", named), admin_token=ADMIN_TOKEN, reload_interval=0
    )
    with LiveServer(create_app(settings, embedder=embedder)) as server:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=server.url, timeout=60, headers=headers) as client:
            yield client, root


def wait_for_rebuild(client: httpx.Client, site: str) -> dict:
    deadline = time.monotonic() + 120
    while (state := client.get("/admin/rebuild", params={"site": site}).json())["running"]:
        assert time.monotonic() < deadline, f"the rebuild of {site} did not finish"
        time.sleep(0.2)
    return state


def site_versions(client: httpx.Client) -> dict[str, str]:
    return {name: s["version"] for name, s in client.get("/healthz").json()["sites"].items()}


def test_an_admin_rebuild_of_one_site_swaps_it_while_the_others_keep_answering(admin_sites):
    client, root = admin_sites
    before = site_versions(client)
    with asking_both_sites(client.base_url) as (answered, failures):
        write_corpus(
            root / "garden",
            {
                "hedgehogs.md": "---\ntitle: Hedgehog houses\n---\nLeave a gap of "
                "thirteen centimetres under the fence so hedgehogs can pass.\n"
            },
        )
        started = client.post("/admin/rebuild", params={"site": "garden"})
        assert started.status_code == 202 and started.json() == {"site": "garden", "status": "started"}
        state = wait_for_rebuild(client, "garden")
        assert state["error"] is None and state["site"] == "garden" and state["report"]["added"] >= 1
    after = site_versions(client)
    assert after["garden"] == state["version"] != before["garden"]  # swapped by the route: polling is off
    assert after["guide"] == before["guide"] and after["orchard"] == before["orchard"]
    assert failures == [] and {s for s, _ in answered} == {"guide", "garden"}
    hedgehogs = client.get("/api/search", params={"q": "how can hedgehogs get into my garden", "site": "garden"})
    assert hedgehogs.json()["results"][0]["title"] == "Hedgehog houses"
    status = client.get("/admin/status", params={"site": "garden"}).json()
    assert status["site"] == "garden" and status["version"] == state["version"] == status["index"]["version"]
    assert status["index"]["document_count"] == 3 and status["loaded"] is True
    # The guide's rebuild state is its own: it never ran.
    assert client.get("/admin/rebuild", params={"site": "guide"}).json()["started_at"] is None


def test_admin_routes_refuse_an_unknown_site_naming_the_known_ones(admin_sites):
    client, _ = admin_sites
    for method, path in (
        ("POST", "/admin/reload"),
        ("POST", "/admin/rebuild"),
        ("GET", "/admin/rebuild"),
        ("GET", "/admin/status"),
    ):
        r = client.request(method, path, params={"site": "gardn"})
        assert r.status_code == 422, (path, r.text)
        assert "gardn" in r.json()["detail"] and "garden, guide, orchard" in r.json()["hint"]
        several = client.request(method, path, params={"site": "guide,garden"})
        assert several.status_code == 422 and "one site at a time" in several.json()["detail"]
        anonymous = httpx.request(method, f"{client.base_url}{path}", params={"site": "gardn"})
        assert anonymous.status_code == 401 and "garden" not in anonymous.text  # no site names without the token


def test_admin_reload_and_status_act_on_the_named_site_and_on_the_first_without_one(admin_sites, embedder):
    from index import build_index

    client, root = admin_sites
    before = site_versions(client)
    write_corpus(root / "orchard", {"pears.md": "---\ntitle: Picking pears\n---\nPick pears while still hard.\n"})
    published = build_index(root / "orchard", root / "orchard-index", embedder).version
    assert site_versions(client)["orchard"] == before["orchard"]  # polling is off
    assert client.get("/admin/status", params={"site": "orchard"}).json()["version"] == before["orchard"]
    reloaded = client.post("/admin/reload", params={"site": "orchard"})
    assert reloaded.json() == {"site": "orchard", "version": published, "swapped": True, "loaded": True}
    assert site_versions(client) == {**before, "orchard": published}
    assert client.get("/admin/status", params={"site": "orchard"}).json()["index"]["document_count"] == 2
    first = client.get("/admin/status").json()  # no site: the first site of the server file
    assert first["site"] == "guide" and first["version"] == before["guide"]
    again = client.post("/admin/reload").json()
    assert again == {"site": "guide", "version": before["guide"], "swapped": False, "loaded": True}


def test_admin_rebuilds_run_one_at_a_time_per_site_and_another_site_meanwhile(admin_sites):
    client, root = admin_sites
    body = "".join(f"\n## Bed {n}\nThe raised bed number {n} grows leeks and chard.\n" for n in range(200))
    write_corpus(root / "garden", {"beds.md": f"---\ntitle: Raised beds\n---\nIntro.\n{body}"})
    assert client.post("/admin/rebuild", params={"site": "garden"}).status_code == 202
    second = client.post("/admin/rebuild", params={"site": "garden"})
    assert second.status_code == 409 and "garden" in second.json()["detail"]
    assert "site=garden" in second.json()["hint"]
    assert client.post("/admin/rebuild", params={"site": "orchard"}).status_code == 202  # another site: not refused
    assert wait_for_rebuild(client, "garden")["error"] is None
    assert wait_for_rebuild(client, "orchard")["error"] is None
    beds = client.get("/api/search", params={"q": "which bed grows leeks", "site": "garden", "k": 1}).json()
    assert beds["results"][0]["title"] == "Raised beds"


def test_build_watch_over_a_server_file_rebuilds_and_publishes_only_the_site_that_changed(tmp_path):
    from index import current_version
    from index.remote import remote_current
    from tests.helpers import start_beacon

    named = {
        name: (write_corpus(tmp_path / name, files), tmp_path / f"{name}-index")
        for name, files in (("garden", GARDEN), ("orchard", ORCHARD))
    }
    sites = server_file(tmp_path / "server.toml", named)
    bucket = str(tmp_path / "bucket")
    log = tmp_path / "watch.log"

    def wait(predicate, what: str) -> None:
        deadline = time.monotonic() + 180
        while not predicate():
            assert proc.poll() is None, f"the watch exited while waiting for {what}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
            time.sleep(0.2)

    with open(log, "w") as out:
        proc = start_beacon("build", "--sites", str(sites), "--watch", "-q", "--publish-to", bucket, stdout=out)
        try:
            wait(lambda: all(remote_current(f"{bucket}/{n}") for n in named), "both sites' first publish")
            first = {n: current_version(index) for n, (_, index) in named.items()}
            assert {n: remote_current(f"{bucket}/{n}") for n in named} == first
            write_corpus(tmp_path / "garden", {"roses.md": "---\ntitle: Pruning roses\n---\nPrune roses in March.\n"})
            wait(lambda: remote_current(f"{bucket}/garden") != first["garden"], "the garden's rebuild to be published")
            (tmp_path / "orchard" / "pruning.md").write_text("---\ntitle: Pruning\nlinks: [oops\n---\nText\n")
            wait(lambda: "pruning.md:3" in log.read_text(), "the orchard's broken file to be reported")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    garden_index = named["garden"][1]
    assert remote_current(f"{bucket}/garden") == current_version(garden_index) != first["garden"]
    assert current_version(named["orchard"][1]) == first["orchard"] == remote_current(f"{bucket}/orchard")
    text = log.read_text()
    assert "Changed in garden: roses.md" in text and "Changed in orchard: pruning.md" in text
    assert text.count("Changed in garden") == 1  # the orchard's edit did not rebuild the garden
    assert "Error: site orchard:" in text and "Still watching" in text and "Stopped watching." in text
    assert "Traceback" not in text


def test_admin_routes_take_a_sites_version_and_its_current_one_for_its_name(tmp_path_factory, default_index, embedder):
    from fastapi.testclient import TestClient

    from index import current_version
    from service.app import create_app
    from tests.helpers import LOCAL

    server_file = versioned_sites(tmp_path_factory.mktemp("admin-versions"), default_index, embedder)
    settings = make_settings(default_index, sites_file=server_file, admin_token=ADMIN_TOKEN)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(settings, embedder=embedder), base_url=LOCAL, headers=headers) as client:
        for site, key in (("garden@1", "garden@1"), ("garden", "garden@2")):
            status = client.get("/admin/status", params={"site": site}).json()
            assert status["site"] == key
            assert status["version"] == current_version(server_file.parent / f"{key.replace('@', '-')}-index")
        unknown = client.post("/admin/rebuild", params={"site": "garden@9"})
        assert unknown.status_code == 422 and "no version '9'" in unknown.json()["detail"]
        assert "1, 2" in unknown.json()["hint"]

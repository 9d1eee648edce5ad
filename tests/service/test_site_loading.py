"""Sites loaded on first use and evicted (BEACON_MAX_LOADED_SITES), and replicas that follow several sites
from one bucket (BEACON_INDEX_URL/NAME), over real HTTP (docs/sites.md)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import LiveServer, beacon_env, free_port, make_settings, run_beacon, start_beacon, write_corpus

pytestmark = pytest.mark.server

SITES = {
    "garden": (
        {
            "bulbs.md": """\
                ---
                title: Planting tulip bulbs
                ---
                Plant tulip bulbs in autumn, about fifteen centimetres deep, pointed end up, before the first frost.
                """,
            "compost.md": """\
                ---
                title: Making compost
                ---
                A compost heap needs green kitchen scraps and brown dry leaves in equal parts, turned every two weeks.
                """,
        },
        "how deep do I plant tulip bulbs",
        "Planting tulip bulbs",
    ),
    "orchard": (
        {
            "pruning.md": """\
                ---
                title: Pruning apple trees
                ---
                Prune apple trees in late winter while they are dormant, cutting out crossing and dead branches.
                """,
            "picking.md": """\
                ---
                title: Picking pears
                ---
                Pick pears when they are mature but still hard, then let them ripen indoors for a week.
                """,
        },
        "when should I prune my apple trees",
        "Pruning apple trees",
    ),
}


def server_file(path: Path, sites: dict[str, tuple[Path, Path]]) -> Path:
    path.write_text(
        "".join(f'[sites.{n}]\ncorpus = "{corpus}"\nindex = "{index}"\n\n' for n, (corpus, index) in sites.items())
    )
    return path


@pytest.fixture(scope="module")
def three_sites(tmp_path_factory, default_index, embedder) -> Path:
    """The guide (the session's default index, the first site: always loaded), then the garden and the orchard."""
    from index import build_index
    from tests.helpers import DEFAULT_CORPUS

    root = tmp_path_factory.mktemp("lazy")
    named = {"guide": (DEFAULT_CORPUS, default_index)}
    for name, (files, _, _) in SITES.items():
        corpus = write_corpus(root / name, files)
        build_index(corpus, root / f"{name}-index", embedder)
        named[name] = (corpus, root / f"{name}-index")
    return server_file(root / "server.toml", named)


def lazy_server(sites_file: Path, default_index: Path, embedder, limit: int = 1) -> LiveServer:
    from service.app import create_app

    settings = make_settings(default_index, sites_file=sites_file, max_loaded_sites=limit, reload_interval=0.2)
    return LiveServer(create_app(settings, embedder=embedder))


GUIDE_QUESTION = "where can I talk to people about I-131"


def ask(client: httpx.Client, site: str) -> httpx.Response:
    question = SITES[site][1] if site in SITES else GUIDE_QUESTION
    return client.get("/api/search", params={"q": question, "site": site})


def loaded(client: httpx.Client) -> dict[str, bool]:
    return {name: s["loaded"] for name, s in client.get("/healthz").json()["sites"].items()}


def metric(client: httpx.Client, name: str) -> dict[str, float]:
    return {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in client.get("/metrics").text.splitlines()
        if line.startswith(name + "{")
    }


def test_a_server_keeping_one_site_loads_each_on_first_use_and_evicts_the_least_recently_used(
    three_sites, default_index, embedder
):
    with lazy_server(three_sites, default_index, embedder) as s, httpx.Client(base_url=s.url, timeout=60) as c:
        assert loaded(c) == {"guide": True, "garden": False, "orchard": False}
        ready = c.get("/readyz")  # a probe does not load the other sites, and says each has an index to serve
        assert ready.status_code == 200
        assert {n: (v["loaded"], v["error"], bool(v["version"])) for n, v in ready.json()["sites"].items()} == {
            "guide": (True, None, True),
            "garden": (False, None, True),
            "orchard": (False, None, True),
        }
        assert loaded(c) == {"guide": True, "garden": False, "orchard": False}

        for site, expected in (("garden", "garden"), ("orchard", "orchard"), ("garden", "garden")):
            r = ask(c, site)
            assert r.status_code == 200, r.text
            assert r.json()["results"][0]["title"] == SITES[expected][2]
            assert {h["site"] for h in r.json()["results"]} == {site}
            assert loaded(c) == {"guide": True, "garden": site == "garden", "orchard": site == "orchard"}
        health = c.get("/healthz").json()["sites"]
        assert health["garden"]["chunks"] >= 2 and health["orchard"]["chunks"] is None
        assert metric(c, "beacon_site_loaded") == {"garden": 1.0, "orchard": 0.0}
        assert metric(c, "beacon_site_loads_total") == {"garden": 2.0, "orchard": 1.0}

        # The pinned first site answered all along; a search over all sites loads each in turn and finds them.
        assert ask(c, "guide").json()["answer"] is not None
        for site in SITES:
            r = c.get("/api/search", params={"q": SITES[site][1]})
            assert r.status_code == 200 and r.json()["results"][0]["site"] == site, r.text
        # Each search loads a site it needs at most once (held for the request): garden and orchard each
        # loaded once more per search that found them evicted, not once per passage.
        assert metric(c, "beacon_site_loads_total") == {"garden": 3.0, "orchard": 3.0}
        assert loaded(c) == {"guide": True, "garden": False, "orchard": True}


def test_concurrent_first_requests_to_a_site_load_it_once_and_all_get_its_answer(three_sites, default_index, embedder):
    with lazy_server(three_sites, default_index, embedder) as s:

        def one(_) -> tuple[int, str]:
            with httpx.Client(base_url=s.url, timeout=120) as c:
                r = ask(c, "orchard")
                return r.status_code, r.json()["results"][0]["title"] if r.status_code == 200 else r.text

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one, range(8)))
        assert answers == [(200, SITES["orchard"][2])] * 8
        with httpx.Client(base_url=s.url) as c:
            assert metric(c, "beacon_site_loads_total") == {"orchard": 1.0}


def test_a_site_whose_index_cannot_load_is_a_503_naming_it_and_the_others_keep_answering(
    tmp_path, default_index, embedder
):
    from index import build_index, current_version
    from index.publish import VERSIONS
    from tests.helpers import DEFAULT_CORPUS

    named = {"guide": (DEFAULT_CORPUS, default_index)}
    for name, (files, _, _) in SITES.items():
        corpus = write_corpus(tmp_path / name, files)
        build_index(corpus, tmp_path / f"{name}-index", embedder)
        named[name] = (corpus, tmp_path / f"{name}-index")
    sites_file = server_file(tmp_path / "server.toml", named)
    live = tmp_path / "garden-index" / VERSIONS / current_version(tmp_path / "garden-index")
    chunks = live / "chunks.json"
    os.chmod(live, 0o755)
    os.chmod(chunks, 0o644)
    chunks.write_text("[]")  # fails its SHA-256 when the site loads
    with lazy_server(sites_file, default_index, embedder) as s, httpx.Client(base_url=s.url, timeout=60) as c:
        r = ask(c, "garden")
        assert r.status_code == 503 and "garden" in r.json()["detail"], r.text
        assert "chunks.json" in r.json()["detail"]
        assert c.get("/healthz").json()["sites"]["garden"]["error"].startswith("site garden:")
        assert ask(c, "orchard").json()["results"][0]["title"] == SITES["orchard"][2]
        page = c.get("/", params={"q": SITES["garden"][1], "site": "garden"})
        assert page.status_code == 503 and "garden" in page.text


def test_a_replica_following_two_sites_swaps_a_rebuilt_one_and_keeps_answering_the_other(tmp_path):
    """`beacon build --sites --publish-to BUCKET` puts each site under BUCKET/NAME; `beacon serve --sites` with
    BEACON_INDEX_URL=BUCKET mirrors each one; a rebuild of one site is served with no failed request."""
    from index import current_version
    from index.remote import remote_current

    builder = server_file(
        tmp_path / "build.toml",
        {
            name: (write_corpus(tmp_path / name, files), tmp_path / f"{name}-index")
            for name, (files, _, _) in SITES.items()
        },
    )
    bucket = f"file://{tmp_path / 'bucket'}"
    built = run_beacon("build", "--sites", str(builder), "--publish-to", bucket, "-q", timeout=600)
    assert built.returncode == 0, built.stderr
    for name in SITES:
        assert remote_current(f"{bucket}/{name}") == current_version(tmp_path / f"{name}-index")
    # The replica's server file names the same sites with its own index folders; it never reads the content.
    # The garden, rebuilt below, comes second: not the first site, which the single-site parts also serve.
    replica = server_file(
        tmp_path / "replica.toml",
        {name: (tmp_path / "no-content", tmp_path / f"replica-{name}") for name in ("orchard", "garden")},
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "replica.log"
    proc = start_beacon(
        "serve",
        "--sites",
        str(replica),
        "--port",
        str(port),
        stdout=open(log, "w"),
        env=beacon_env(
            BEACON_INDEX_URL=bucket,
            BEACON_REMOTE_POLL_INTERVAL="0.5",
            BEACON_RELOAD_INTERVAL="0.5",
            BEACON_RATE_LIMIT_PER_MINUTE=0,
        ),
    )
    failures, answered, stop = [], [], threading.Event()

    def load(site: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            while not stop.is_set():
                try:
                    r = ask(c, site)
                except httpx.TransportError as e:
                    failures.append((site, repr(e)))
                    continue
                ok = r.status_code == 200 and r.json()["results"][0]["title"] == SITES[site][2]
                (answered if ok else failures).append((site, r.status_code, r.text[:200]))
                time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(name,)) for name in SITES]
    try:
        from tests.helpers import wait_until_ok

        wait_until_ok(proc, url, "/readyz", output=log.read_text)
        before = httpx.get(url + "/healthz").json()["sites"]
        assert {n: s["version"] for n, s in before.items()} == {
            n: current_version(tmp_path / f"{n}-index") for n in SITES
        }
        for t in threads:
            t.start()
        (tmp_path / "garden" / "roses.md").write_text("---\ntitle: Pruning roses\n---\nPrune roses in late winter.\n")
        rebuilt = run_beacon(
            "build", "--sites", str(builder), "--only", "garden", "--publish-to", bucket, "-q", timeout=600
        )
        assert rebuilt.returncode == 0, rebuilt.stderr
        newest = current_version(tmp_path / "garden-index")
        assert newest != before["garden"]["version"] and remote_current(f"{bucket}/garden") == newest
        wait_for_version(url, "garden", newest, log)
        roses = httpx.get(url + "/api/search", params={"q": "when do I prune roses", "site": "garden"}).json()
        assert roses["results"][0]["title"] == "Pruning roses"
        assert httpx.get(url + "/healthz").json()["sites"]["orchard"]["version"] == before["orchard"]["version"]
        # The builder rolls the garden back: its remote pointer only; the replica follows.
        rollback = run_beacon(
            "rollback", "--sites", str(builder), "--only", "garden", env=beacon_env(BEACON_PUBLISH_URL=bucket)
        )
        assert rollback.returncode == 0 and f"{bucket}/garden" in rollback.stdout, rollback.stdout + rollback.stderr
        wait_for_version(url, "garden", before["garden"]["version"], log)
        assert remote_current(f"{bucket}/orchard") == before["orchard"]["version"]
    finally:
        stop.set()
        for t in threads:
            if t.is_alive():
                t.join()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert failures == [], failures[:5]
    assert {a[0] for a in answered} == set(SITES)
    assert "Traceback" not in log.read_text()


def wait_for_version(url: str, site: str, version: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(url + "/healthz").json()["sites"][site]["version"] != version:
        assert time.monotonic() < deadline, f"{site} did not swap to {version}:\n" + log.read_text()[-3000:]
        time.sleep(0.2)


def test_a_lazy_server_refuses_to_start_on_a_site_with_no_published_index(tmp_path, default_index, embedder, caplog):
    """`beacon serve` checks every index before it starts uvicorn; the app's own start-up (uvicorn's factory,
    each worker) checks too, without loading the sites: one line naming the site, no traceback."""
    from fastapi.testclient import TestClient

    from service.app import create_app
    from tests.helpers import DEFAULT_CORPUS, LOCAL

    sites_file = server_file(
        tmp_path / "server.toml",
        {"guide": (DEFAULT_CORPUS, default_index), "empty": (tmp_path / "none", tmp_path / "no-index")},
    )
    app = create_app(make_settings(default_index, sites_file=sites_file, max_loaded_sites=1), embedder=embedder)
    with pytest.raises((SystemExit, CancelledError)), TestClient(app, base_url=LOCAL):  # the lifespan's exit
        pass
    assert "cannot start: site empty: no index has been published in" in caplog.text


def test_an_admin_rebuild_of_a_site_not_loaded_publishes_it_without_loading_and_it_loads_the_new_version(
    tmp_path, default_index, embedder
):
    from index import build_index
    from service.app import create_app
    from tests.helpers import DEFAULT_CORPUS

    corpus = write_corpus(tmp_path / "orchard", SITES["orchard"][0])
    build_index(corpus, tmp_path / "orchard-index", embedder)
    sites = server_file(
        tmp_path / "server.toml",
        {"guide": (DEFAULT_CORPUS, default_index), "orchard": (corpus, tmp_path / "orchard-index")},
    )
    token = "s3cret-admin-token-for-tests"
    settings = make_settings(
        default_index, sites_file=sites, max_loaded_sites=1, reload_interval=0.2, admin_token=token
    )
    headers = {"Authorization": f"Bearer {token}"}
    with (
        LiveServer(create_app(settings, embedder=embedder)) as s,
        httpx.Client(base_url=s.url, timeout=60, headers=headers) as c,
    ):
        before = c.get("/admin/status", params={"site": "orchard"}).json()
        assert before["loaded"] is False and before["index"]["document_count"] == 2  # read from disk, not loaded
        write_corpus(corpus, {"quince.md": "---\ntitle: Quince jelly\n---\nBoil quinces with sugar for jelly.\n"})
        assert c.post("/admin/rebuild", params={"site": "orchard"}).status_code == 202
        deadline = time.monotonic() + 120
        while (state := c.get("/admin/rebuild", params={"site": "orchard"}).json())["running"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state["error"] is None and state["version"] not in (None, before["version"])
        assert loaded(c)["orchard"] is False  # the rebuild did not load it
        reload = c.post("/admin/reload", params={"site": "orchard"}).json()
        assert reload == {"site": "orchard", "version": state["version"], "swapped": False, "loaded": False}
        quince = c.get("/api/search", params={"q": "how do I make quince jelly", "site": "orchard"}).json()
        assert quince["results"][0]["title"] == "Quince jelly"
        after = c.get("/admin/status", params={"site": "orchard"}).json()
        assert after["loaded"] is True and after["version"] == state["version"]

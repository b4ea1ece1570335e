# The two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
VENDOR := qosyl/static/vendor
TEST_WORKERS ?= 2
export FLASK_APP := wsgi:app

.PHONY: cluster cluster-stop cluster-status nginx lighthouse run test test-sqlite test-postgres install install-test vendor assets browser lint format seed clean

run: install vendor assets
	$(BIN)/flask db upgrade
	$(BIN)/flask rerender --missing
	$(BIN)/flask seed --if-empty
	@echo "Qosyl is starting at http://127.0.0.1:$(PORT)"
	PORT=$(PORT) $(BIN)/python wsgi.py

# Under CI=true the suite runs on SQLite and again on PostgreSQL, and a missing
# browser or service fails the run instead of skipping.
test: install-test vendor assets browser nginx
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory test-sqlite
ifeq ($(CI),true)
	$(MAKE) --no-print-directory test-postgres
endif

# The suite in two runs: the tests without a browser on both cores (pytest-xdist; on
# PostgreSQL each worker has a database of its own, test_gw0 and test_gw1), then the
# browser journeys one at a time (each starts browsers and a server of its own).
# On PostgreSQL the journeys that check only what the browser does with a page (layout,
# accessibility, camera and microphone handling, media through a TURN relay, Lighthouse's
# scores) are left out: they run on SQLite, and every server path they use runs in the
# other journeys.
SAME_ON_EVERY_DATABASE := $(addprefix --ignore=tests/e2e/,test_layout.py test_accessibility.py test_meeting_prejoin.py test_meeting_relay.py test_lighthouse.py)
# The cluster journey and its faults (several processes behind nginx) need PostgreSQL: they run
# once, on it.
test-sqlite:
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m e2e --ignore=tests/e2e/test_cluster.py --ignore=tests/e2e/test_cluster_faults.py $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)
	DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/python -m pytest -m e2e $(SAME_ON_EVERY_DATABASE) $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(VENV)/.stamp-app
$(VENV)/.stamp-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install-test: $(VENV)/.stamp-test
$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(VENV)/.stamp-app $@

# Front-end packages come from npm; only their built files are served.
vendor: $(VENDOR)/.stamp
$(VENDOR)/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR)/socket.io.min.js
	cp node_modules/socket.io-client/dist/socket.io.min.js.map $(VENDOR)/socket.io.min.js.map
	cp node_modules/chart.js/dist/chart.umd.js node_modules/chart.js/dist/chart.umd.js.map $(VENDOR)/
	mkdir -p $(VENDOR)/api-docs
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/api-docs/
	cp node_modules/redoc/bundles/redoc.standalone.js $(VENDOR)/api-docs/
	touch $@

# Static files compressed once: a .br and a .gz copy beside each text file, sent by
# qosyl/web/assets.py to browsers that accept them (only stale copies are rewritten).
assets: install vendor
	$(BIN)/python -m qosyl.web.precompress

# Browser tests drive Debian's Chromium; the meeting relay test starts Debian's coturn.
# Install them when we may.
SYSTEM_PACKAGES := chromium:/usr/bin/chromium coturn:/usr/bin/turnserver
browser:
	@missing=""; for entry in $(SYSTEM_PACKAGES); do \
		[ -x "$${entry#*:}" ] || missing="$$missing $${entry%%:*}"; \
	done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing from Debian's packages..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Missing$$missing and cannot install here: the tests that need them will be skipped."; \
	fi

# nginx in front of the cluster, from Debian's packages when missing and we may install.
nginx:
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing nginx from Debian's packages..."; \
		apt-get update -qq && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
			|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }; \
	else \
		echo "Missing nginx and cannot install here: make cluster and its test need it."; \
	fi

# WORKERS app processes (default 2) on PostgreSQL and Redis behind nginx on CLUSTER_PORT (8080):
# qosyl/ops/cluster.py says what it starts and which settings it reads.
WORKERS ?= 2
CLUSTER_PORT ?= 8080
cluster: install vendor assets nginx
	WORKERS=$(WORKERS) CLUSTER_PORT=$(CLUSTER_PORT) $(BIN)/python -m qosyl.ops.cluster start

cluster-stop:
	$(BIN)/python -m qosyl.ops.cluster stop

cluster-status:
	$(BIN)/python -m qosyl.ops.cluster status

seed: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Lighthouse's performance score (mobile) on home, a room and a conversation alone, with
# its figures printed (it also runs in `make test`, in the SQLite browser journeys).
lighthouse: install-test vendor assets browser
	$(BIN)/python -m pytest -m e2e -s -p no:randomly tests/e2e/test_lighthouse.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .ruff_cache
	find qosyl/static \( -name '*.br' -o -name '*.gz' \) -delete

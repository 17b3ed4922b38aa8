# The commands a newcomer needs. Each installs what is missing (scripts/bootstrap.sh) and, unless
# DATABASE_URL is set, starts the project-local PostgreSQL + PostGIS cluster (scripts/devdb.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
# The local cluster's URL, starting it if needed (and stopping here if it cannot); an explicit
# DATABASE_URL wins.
WITH_DB = if [ -z "$${DATABASE_URL:-}" ]; then DATABASE_URL=$$(scripts/devdb.sh start) || exit 1; fi; \
	export DATABASE_URL DEBUG="$${DEBUG:-1}"
# The suite runs on every core (pytest-xdist; each process has its own test database); a module or
# a class stays on one process, so a fixture it shares (a demo load) is made once. The local
# cluster's replica (for the replica-routing test) is started first: a standby cannot start while
# another test process holds a transaction with many savepoints open on the primary.
PYTEST_JOBS ?= auto
MESSAGES = $(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=.data

.PHONY: help run test stop lint messages bench backup restore serve loadtest drill

help:
	@echo "make run    serve the portal with demo data on http://127.0.0.1:8000/"
	@echo "make serve  serve it as production does: gunicorn, DEBUG off, compressed static files"
	@echo "make test   run the whole suite (browser tests included) against PostGIS"
	@echo "make bench  speed figures (map layer, transparency page, needs import, ledger, the map on a slow"
	@echo "           phone), in a database of their own"
	@echo "make loadtest  capacity: 50 to 500 visitors on gunicorn with 50,000 needs, then a bare Django view (~20 min;"
	@echo "               LOADTEST_ARGS=\"--steps 50,100 ...\", see --help); fails when a target is missed"
	@echo "make drill     fault drills under load: database, mail server, Redis, worker, app server, replica down; disk full"
	@echo "make lint   ruff check and format check"
	@echo "make stop   stop the project-local database"
	@echo "make backup             write a timestamped pg_dump of the database to backups/"
	@echo "make restore FILE=...   restore such a backup into the database (replacing its data)"
	@echo "make messages  refresh the translation catalogues from the code"

run:
	@scripts/bootstrap.sh
	@$(WITH_DB) && \
	$(PY) manage.py migrate --noinput -v0 && \
	$(MESSAGES) && \
	$(PY) manage.py load_demo --if-empty && \
	$(PY) manage.py ensure_dev_staff && \
	$(PY) manage.py send_contact_link --demo && \
	echo && echo "  Open http://127.0.0.1:8000/ (staff: http://127.0.0.1:8000/admin/, logins above). Ctrl-C stops it." && echo && \
	exec scripts/with-worker.sh $(PY) manage.py runserver 127.0.0.1:8000

serve:
	@scripts/serve.sh

test:
	@scripts/bootstrap.sh --test
	@$(WITH_DB) && \
	$(PY) -m ruff check . && \
	$(PY) -m ruff format --check . && \
	$(PY) manage.py makemigrations --check --dry-run -v1 && \
	$(MESSAGES) && \
	{ [ "$$DATABASE_URL" != "$$(scripts/devdb.sh url)" ] || scripts/devdb.sh replica start >/dev/null; } && \
	$(PY) -m pytest --create-db -n $(PYTEST_JOBS) --dist loadscope $(PYTEST_ARGS)

bench:
	@scripts/bootstrap.sh --bench
	@$(WITH_DB) && $(PY) -m bench.needs_layer && $(PY) -m bench.transparency && $(PY) -m bench.import_needs && $(PY) -m bench.ledger && \
	$(PY) -m bench.slow_map

loadtest:
	@scripts/bootstrap.sh --load
	@$(WITH_DB) && $(PY) -m bench.loadtest.run $(LOADTEST_ARGS)

# Each drill makes a PostgreSQL cluster of its own: none touches the local database.
drill:
	@scripts/bootstrap.sh --drill
	@$(PY) -m bench.drills.all

lint:
	@scripts/bootstrap.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

messages:
	@scripts/bootstrap.sh
	$(PY) manage.py makemessages -l id -l en --ignore=.venv --ignore=.data --ignore=staticfiles --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l id -l en --ignore=.venv --ignore=.data --ignore=staticfiles --ignore=static/vendor --no-obsolete

stop:
	@scripts/devdb.sh stop

backup:
	@scripts/bootstrap.sh
	@scripts/backup.sh backup

restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/ksbb-….dump"; exit 2; }
	@scripts/bootstrap.sh
	@scripts/backup.sh restore "$(FILE)"

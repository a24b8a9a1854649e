PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run

## make run: the demo site, a Celery worker with beat and (with no Zoom app configured) the Zoom simulator.
run: $(VENV)/.installed-run
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python -m lms.devserver

## make test: the whole suite (migrations checked first). Non-zero on any failure.
test: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemigrations --check --dry-run --settings lms.settings_test
	$(BIN)/python -m pytest

## make bench: the benchmarks of docs/benchmarks.md (PostgreSQL, redis-server, wrk and gunicorn on this machine).
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/burst.py
	$(BIN)/python bench/sync_latency.py
	$(BIN)/python bench/sync_throughput.py
	$(BIN)/python bench/registrants.py
	$(BIN)/python bench/sweeps.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf var/

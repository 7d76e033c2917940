# The README's commands. `make book` builds the site, `make test` runs every test;
# both create .venv and install the pinned requirements first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
# Debian packages the tests need (headless browser checks, grading sandbox).
TEST_DEBS := chromium bubblewrap
JOBS   ?= 2
# Extra pip options, e.g. PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"
# on a machine whose pip cannot find the CPU wheel torch==2.13.0+cpu by itself.
PIP_ARGS ?=

export KERAS_BACKEND := torch
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup book serve test bench clean release collect autograde feedback formgrader export report \
	misconceptions

help:
	@echo "make book   build the site into _build/html"
	@echo "make test   run the whole test suite"
	@echo "make serve  serve the built site on http://localhost:8000"
	@echo "make bench  compare lossfns with torch (time and memory)"
	@echo "Instructors (see the README):"
	@echo "make release                    student notebooks in exercises/ from solutions/"
	@echo "make collect FROM=<folder|zip>  place downloaded submissions in submitted/"
	@echo "make autograde                  grade every submission (sandboxed, in parallel)"
	@echo "make feedback                   HTML feedback per student in feedback/"
	@echo "make formgrader                 JupyterLab for grading the written answers (formgrader)"
	@echo "make export                     grades.csv (one row per student and chapter)"
	@echo "make report                     score histograms in reports/grades.png"
	@echo "make misconceptions             per behaviour: failures and misconceptions (reports/misconceptions.*)"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  scripts/ensure-debs.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet $(PIP_ARGS) -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)

# Both languages (book/es, book/en) with warnings as errors, executed cells cached; see
# scripts/build_book.py. The root _build/html/index.html lets the reader choose the language.
book: $(STAMP)
	$(PY) scripts/build_book.py --out _build/html --doctrees _build/doctrees

serve:
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first"; exit 1; }
	@echo "Serving _build/html on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 8000

test: $(STAMP)
	@[ -z "$(TEST_DEBS)" ] || scripts/ensure-debs.sh $(TEST_DEBS)
	$(BIN)/ruff check .
	$(PY) -m pytest -n $(JOBS)

bench: $(STAMP)
	$(PY) benchmarks/bench_losses.py

# The instructor's workflow (coursework/instructor). ASSIGNMENT=<assignment id> limits it to one
# assignment (the ids: .venv/bin/python -m coursework.chapters).
INSTRUCTOR := $(PY) -m coursework.instructor

release: $(STAMP)
	$(INSTRUCTOR) release $(ASSIGNMENT)

collect: $(STAMP)
	@test -n "$(FROM)" || { echo "Usage: make collect FROM=<folder or .zip of submissions>"; exit 1; }
	$(INSTRUCTOR) collect "$(FROM)"

autograde: $(STAMP)
	@scripts/ensure-debs.sh bubblewrap
	$(INSTRUCTOR) autograde $(ASSIGNMENT) $(if $(FORCE),--force)

feedback: $(STAMP)
	$(INSTRUCTOR) feedback $(ASSIGNMENT)

formgrader: $(STAMP)
	$(INSTRUCTOR) formgrader

export: $(STAMP)
	$(INSTRUCTOR) export

report: $(STAMP)
	$(INSTRUCTOR) report

misconceptions: $(STAMP)
	$(INSTRUCTOR) misconceptions $(ASSIGNMENT)

clean:
	rm -rf _build .pytest_cache .hypothesis

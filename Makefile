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

.PHONY: help setup book serve test bench clean release roster import collect autograde merge feedback \
        similarity formgrader export report misconceptions

help:
	@echo "make book   build the site into _build/html"
	@echo "make test   run the whole test suite"
	@echo "make serve  serve the built site on http://localhost:8000"
	@echo "make bench  compare lossfns with torch (time and memory)"
	@echo "Instructors (see the README):"
	@echo "make release                         student notebooks in exercises/ from solutions/"
	@echo "make roster FROM=<csv> [CHAPTER=<chapter>]  class list from Canvas or Moodle (a Moodle"
	@echo "                                     grading worksheet per chapter)"
	@echo "make import FROM=<zip> ASSIGNMENT=<chapter> [DUE=<ISO date>]  an LMS download into submitted/"
	@echo "make autograde                       grade every submission (sandboxed, in parallel)"
	@echo "     [ASSIGNMENT=<assignment>] [FORCE=1] [STUDENT=<id>] [SHARD=<i>/<n>]"
	@echo "make merge ASSIGNMENT=<assignment>   combine the shards of an autograde"
	@echo "make feedback                        HTML feedback per student in feedback/"
	@echo "make formgrader                      JupyterLab for grading the written answers (formgrader)"
	@echo "make similarity [CHAPTER=<chapter>]  hints of copying in reports/similarity-<chapter>.html"
	@echo "make export [LMS=moodle|canvas] [MISSING=zero] [PARTS=1]"
	@echo "                                     grades and feedback packages for the LMS in exports/"
	@echo "make report                          score histograms in reports/grades.png"
	@echo "make misconceptions                 per behaviour: failures and misconceptions (reports/misconceptions.*)"

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

roster: $(STAMP)
	@test -n "$(FROM)" || { echo "Usage: make roster FROM=<class list CSV> [CHAPTER=<its chapter>]"; exit 1; }
	$(INSTRUCTOR) roster "$(FROM)" $(if $(CHAPTER),--chapter $(CHAPTER))

import collect: $(STAMP)
	@test -n "$(FROM)" || { echo "Usage: make import FROM=<LMS download> ASSIGNMENT=<chapter>"; exit 1; }
	$(INSTRUCTOR) import "$(FROM)" $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(if $(DUE),--due $(DUE)) \
	  $(if $(LAYOUT),--layout $(LAYOUT))

autograde: $(STAMP)
	@scripts/ensure-debs.sh bubblewrap
	$(INSTRUCTOR) autograde $(ASSIGNMENT) $(if $(FORCE),--force) $(if $(STUDENT),--student $(STUDENT)) \
	  $(if $(SHARD),--shard $(SHARD)) $(if $(WORKERS),--workers $(WORKERS))

merge: $(STAMP)
	$(INSTRUCTOR) merge $(ASSIGNMENT)

feedback: $(STAMP)
	$(INSTRUCTOR) feedback $(ASSIGNMENT)

formgrader: $(STAMP)
	$(INSTRUCTOR) formgrader

similarity: $(STAMP)
	$(INSTRUCTOR) similarity $(CHAPTER)

# The LMS feedback packages typeset their formulas in headless Chromium.
export: $(STAMP)
	@[ "$(LMS)" = none ] || scripts/ensure-debs.sh chromium
	$(INSTRUCTOR) export $(if $(LMS),--lms $(LMS)) $(if $(MISSING),--missing $(MISSING)) $(if $(PARTS),--parts)

report: $(STAMP)
	$(INSTRUCTOR) report

misconceptions: $(STAMP)
	$(INSTRUCTOR) misconceptions $(ASSIGNMENT)

clean:
	rm -rf _build .pytest_cache .hypothesis

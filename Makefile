# The two commands of the README. Each sets itself up on a fresh Debian machine with Python >= 3.10:
# a .venv installed through constraints.txt (the tested versions; an unpinned torchvision/timm would pull
# the newest torch and GBs of CUDA wheels), and, where apt works as root, Fashion-MNIST from Debian.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.delt-installed
# make demo: DELT on Fashion-MNIST at IPC 10 through delt.pipeline (one progress bar per stage, then the summary) with
# values scaled to a CPU so that it ends within 5 minutes on 2 cores after setup: a seeded subset of 20 000 training images
# (teacher, ranking and random real all draw from it), a two-epoch teacher (trained on the first run, then reused from
# outputs/cache), 500 ranked candidates per class, MI 300 / RI 100, students for 60 epochs over 2 seeds, tested once at the
# end on 2 000 evenly spaced test images, next to a random-real baseline and the hard-label context (60 epochs;
# DD-Ranking's scores).
DEMO_OUT    ?= outputs/demo/fashion_mnist_delt_ipc10
DEMO_PARAMS ?= ipc=10 n_train=20000 teacher_epochs=2 mipc=500 mi=300 ri=100 eval_epochs=60 eval_every=60 hard_epochs=60 seeds=2 n_test=2000
# make experiments GRID=<experiment> [PARAMS="key=value …"]: an experiment notebook of nbs/experiments (methods,
# ablations, cross_arch, compute, diversity, pdd, distill) with its full values, then outputs/RESULTS.md (report.ipynb).
GRID   ?= methods
PARAMS ?=

.PHONY: setup data browser demo experiments docs test check clean-venv

setup: $(STAMP) data

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

# Fashion-MNIST from the Debian package, when it is missing and apt is usable (root).
data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -qq dataset-fashion-mnist || (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist)) >/dev/null \
	  || echo "warning: could not install dataset-fashion-mnist; see README (Data)"; fi

# Headless Chromium for the docs site's browser test (tests/test_browser.py), when it is missing and apt is usable (root);
# without it those tests are skipped with the reason.
browser:
	@if ! command -v chromium >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)) >/dev/null 2>&1 \
	  || echo "warning: could not install chromium; the browser tests will be skipped"; fi

# The main job on Fashion-MNIST on the CPU: one progress bar per stage, then the summary (where the outputs are, the students
# on the set beside random real and the teacher, the hard-label context with DD-Ranking's scores, diversity, the grid's path).
demo: setup
	$(BIN)/python -m delt.pipeline --params "$(DEMO_PARAMS)" --out $(DEMO_OUT)

# A grid of runs (papermill, resumable: finished runs are skipped, failures recorded in grid_status.json).
experiments: setup
	$(BIN)/python -m delt.experiments $(GRID) --params "$(PARAMS)"

# The docs site from nbs/ (every page of nbs/sidebar.yml, in its sections): nbdev-docs into _docs/ where Quarto is installed,
# otherwise plain HTML (nbconvert) into outputs/docs/site/ (open outputs/docs/site/index.html); links and images are checked.
# DOCS_FLAGS=--execute runs every notebook first, so that the pages show outputs and figures (long on a CPU).
DOCS_FLAGS ?=
docs: setup
	$(BIN)/python tools/docs.py build $(DOCS_FLAGS)

# Notebooks must be clean and the library exported from them; then the whole test suite.
check: setup
	@before=$$(git status --porcelain -- nbs delt | sort; git diff -- nbs delt | sha1sum); \
	$(BIN)/nbdev-clean >/dev/null && $(BIN)/nbdev-export >/dev/null; \
	after=$$(git status --porcelain -- nbs delt | sort; git diff -- nbs delt | sha1sum); \
	if [ "$$before" != "$$after" ]; then git status --short -- nbs delt; \
	  echo "nbdev-clean/nbdev-export changed the files above: commit the cleaned notebooks and the exported library."; exit 1; fi
	@echo "notebooks clean, library in sync"

# The suite runs on every core (pytest-xdist; each worker gets its share of the cores): TEST_JOBS=1 runs it in one process.
TEST_JOBS ?= auto

test: check browser
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist worksteal

clean-venv:
	rm -rf $(VENV)

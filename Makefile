# The two commands of the README. Each sets itself up on a fresh Debian machine with Python >= 3.10:
# a .venv installed through constraints.txt (the tested versions; an unpinned torchvision/timm would pull
# the newest torch and GBs of CUDA wheels), and, where apt works as root, Fashion-MNIST from Debian.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.delt-installed
DEMO_EPOCHS ?= 2

.PHONY: setup data demo test check clean-venv

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

# The main job on Fashion-MNIST, CPU: for now, train the ConvNet-3 teacher and print its test accuracy.
demo: setup
	$(BIN)/delt-squeeze --dataset fashion_mnist --arch convnet3 --epochs $(DEMO_EPOCHS) --out outputs/demo/teacher

# Notebooks must be clean and the library exported from them; then the whole test suite.
check: setup
	@before=$$(git status --porcelain -- nbs delt | sort; git diff -- nbs delt | sha1sum); \
	$(BIN)/nbdev-clean >/dev/null && $(BIN)/nbdev-export >/dev/null; \
	after=$$(git status --porcelain -- nbs delt | sort; git diff -- nbs delt | sha1sum); \
	if [ "$$before" != "$$after" ]; then git status --short -- nbs delt; \
	  echo "nbdev-clean/nbdev-export changed the files above: commit the cleaned notebooks and the exported library."; exit 1; fi
	@echo "notebooks clean, library in sync"

test: check
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)

# The two commands of the README. Each first sets up what is missing
# (tools/setup_env.sh, safe to re-run), then runs its job.
PYTHON ?= python3
export PYTHON

.PHONY: setup demo test

setup:
	bash tools/setup_env.sh

demo: setup
	$(PYTHON) tools/demo.py

test: setup
	$(PYTHON) -m pytest tests

# Two commands on a fresh machine: `make test` and `make demo`. Each bootstraps what it needs first.
PY := .venv/bin/python

.PHONY: setup test demo bench clean

setup:
	@bash scripts/bootstrap.sh

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) -m vrft demo

bench: setup
	$(PY) bench/rewards.py
	$(PY) bench/ingest.py
	$(PY) bench/ingest_labels.py
	$(PY) bench/mix.py
	$(PY) bench/train_step.py

clean:
	rm -rf .venv .pytest_cache build *.egg-info

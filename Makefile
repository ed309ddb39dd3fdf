# Two commands on a fresh machine: `make test` and `make demo`. Each bootstraps what it needs first.
PY := .venv/bin/python

.PHONY: setup clients test demo bench mutate clean

setup:
	@bash scripts/bootstrap.sh

clients:
	@bash scripts/clients.sh

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

# Mutation testing of the core (long; not part of `make test`): `make mutate MODULES="rewards schemas"` runs
# only those groups (scripts/mutate.py lists them); the result goes to docs/mutation.md.
mutate: setup
	$(PY) scripts/mutate.py $(MODULES)

clean:
	rm -rf .venv .clients .pytest_cache build *.egg-info

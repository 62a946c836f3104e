# The two commands of the README. Each does its own set-up (scripts/bootstrap.sh) first.
.PHONY: demo test bench

demo:
	bash scripts/bootstrap.sh
	.venv/bin/kws-nas search

test:
	bash scripts/test.sh

bench:
	bash scripts/bootstrap.sh
	for b in benchmarks/*.py; do .venv/bin/python $$b || exit 1; done

# mcpreg: the commands the README promises and CI runs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fuzz bench bench-quick dist pins clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "==> creating the virtualenv $(VENV) with $(PY)"; $(PY) -m venv $(VENV); }
	@echo "==> installing mcpreg and its dependencies into $(VENV) (the first run takes a minute or two)"
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $(STAMP)
	@echo "==> installed: $(BIN)/mcpreg (put $(BIN) on your PATH to type plain mcpreg)"

## run: serve on http://127.0.0.1:8080 with SQLite and the sample catalogue (dev mode)
run: $(STAMP)
	@echo "==> serving http://127.0.0.1:8080 in dev mode: SQLite in .mcpreg/, migrations applied, sample catalogue from registry-data/ loaded on first start (Ctrl-C stops)"
	MCPREG_DEV=$${MCPREG_DEV:-1} $(BIN)/mcpreg serve --host 127.0.0.1 --port 8080

## test: the whole suite, on SQLite and (when reachable) PostgreSQL
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

## fuzz: schemathesis against a live mcpreg (sample catalogue): /api/openapi.json and the official
## openapi.yaml, no 5xx and every answer as documented; about 90 s (fuzz/run.py)
fuzz: $(STAMP)
	$(BIN)/python fuzz/run.py

## lint: ruff and mypy --strict on src/
lint: $(STAMP)
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/ruff format --check src tests bench fuzz
	$(BIN)/mypy src

## bench: the full benchmark (1k, 10k, 100k releases; SQLite and PostgreSQL); needs wrk
bench: $(STAMP)
	sh bench/require-wrk.sh
	$(BIN)/python -m bench

## bench-quick: the smallest catalogue only, under two minutes; needs wrk
bench-quick: $(STAMP)
	sh bench/require-wrk.sh
	$(BIN)/python -m bench --quick

## dist: build the wheel into $(DIST) (what the image and the wheel test install)
DIST ?= dist
dist: $(STAMP)
	$(BIN)/python -m pip wheel -q --no-deps -w $(DIST) .

## pins: write deploy/requirements.txt, the image's exact runtime dependencies
pins: $(STAMP)
	$(BIN)/python deploy/pin.py deploy/requirements.txt

clean:
	rm -rf $(VENV) .mcpreg .pytest_cache .mypy_cache .ruff_cache

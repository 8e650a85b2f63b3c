# Each stage is a Python package with its own CLI; this file only strings them together.
# Every target first makes sure the virtual environment matches requirements.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Stages run through a filter that drops TensorFlow's start-up lines (CUDA not found, oneDNN
# notices: printed before any log setting applies); VERBOSE=1 shows everything.
RUN = $(if $(VERBOSE),$(PY),$(PY) tools/quiet_stderr.py)
# Shell-quotes a path for a recipe (folders with spaces or quotes): $(call quote,$(DATA))
quote = '$(subst ','\'',$(1))'

VARIANT ?= ghost_s
# With WEIGHTS, an unset VARIANT (and SIZE, CLASSES, labels) comes from the trained file itself.
VARIANT_GIVEN = $(filter-out file default undefined,$(origin VARIANT))
WEIGHTS_VARIANT = $(if $(VARIANT_GIVEN),--variant $(VARIANT))
PRECISION ?= int8
OUT ?= artifacts
CLASSES ?=
CALIB ?= 100
# Optional: SIZE, WEIGHTS, DATA, LABELS, IO (uint8|int8), WORKERS (calibration processes),
# CALIB_PERCENTILE (int8 range estimator: default 90, 100 = min/max), CALIB_SEED (which images calibrate),
# FORCE=1 (write the file even where validation refuses it; the manifest records why),
# ARM_CHECK=a76 (its outputs on this emulated ARM core vs x86's, in the manifest where make arm-env ran; 0: skip)
ARM_CHECK ?= a76
CONVERT_ARGS = $(if $(or $(VARIANT_GIVEN),$(if $(WEIGHTS),,default)),$(VARIANT)) --precision $(PRECISION) \
	$(if $(CLASSES),--classes $(CLASSES)) --out $(call quote,$(OUT)) --calib $(CALIB) \
	$(if $(SIZE),--size $(SIZE)) $(if $(WEIGHTS),--weights $(call quote,$(WEIGHTS))) $(if $(DATA),--data $(call quote,$(DATA))) \
	$(if $(LABELS),--labels $(call quote,$(LABELS))) $(if $(IO),--io $(IO)) $(if $(WORKERS),--calib-workers $(WORKERS)) \
	$(if $(CALIB_PERCENTILE),--calib-percentile $(CALIB_PERCENTILE)) $(if $(CALIB_SEED),--calib-seed $(CALIB_SEED)) \
	$(if $(filter-out 0,$(FORCE)),--force) $(if $(filter-out 0,$(ARM_CHECK)),--arm-check $(ARM_CHECK))

BACKENDS ?= cpu,interpreter,gpu,npu,legacy,tf
THREADS ?= 1,2
RUNS ?= 50
WARMUP ?= 5
LEGACY_VENV ?= .venv-legacy
MEDIAPIPE_VENV ?= .venv-mediapipe

# make train / evaluate / demo-data (python -m train --help for every option)
DATA ?=
EPOCHS ?=
BATCH ?=
RECIPE ?=
STAGES ?=
PROGRESSION ?=
# OUT keeps its meaning per target; unset, train writes runs/VARIANT and demo-data data/demo.
OUT_GIVEN = $(filter-out file default undefined,$(origin OUT))
TRAIN_ARGS = --variant $(VARIANT) --data $(call quote,$(DATA)) --out $(call quote,$(if $(OUT_GIVEN),$(OUT),runs/$(VARIANT))) \
	$(if $(SIZE),--size $(SIZE)) $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(BATCH),--batch $(BATCH)) \
	$(if $(WEIGHTS),--weights $(call quote,$(WEIGHTS))) $(if $(RECIPE),--recipe $(RECIPE)) $(if $(STAGES),--stages $(STAGES)) \
	$(if $(PROGRESSION),--progression $(PROGRESSION)) $(if $(FREEZE),--freeze-epochs $(FREEZE)) \
	$(if $(CLASSES),--classes $(CLASSES)) $(if $(ACTIVATION),--activation $(ACTIVATION)) \
	$(if $(filter 0,$(SE)),--no-se) $(if $(FLIP),--flip $(FLIP)) $(if $(RANDAUG),--randaug $(RANDAUG)) \
	$(if $(MIXUP),--mixup $(MIXUP)) $(if $(SMOOTHING),--label-smoothing $(SMOOTHING)) $(if $(EMA),--ema $(EMA)) \
	$(if $(STRENGTH),--strength $(STRENGTH))

.PHONY: help setup test test-slow test-faults models-table tflite conversion-figures bench bench-legacy-env bench-gpu-sw clean \
	mediapipe-env clients-env kotlin-env arm-env arm-yardstick arm-counts profile perf-install \
	train evaluate demo-data ablation qat quant-report calib-study ship study-folders defaults-study figures
.DEFAULT_GOAL := help

help:  ## this list (a bare `make` prints it too)
	@echo "usage: make TARGET [NAME=value ...]; README.md has examples"
	@grep -E '^[a-z][a-z0-9_-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]+):.*## /  \1\t/' | expand -t 22

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(STAMP)  ## create .venv and install the pinned dependencies

test: $(STAMP)  ## the default suite (small models; under ~15 min on 2 cores; make test-faults runs the fault suite)
	$(PY) -m pytest --ignore=tests/faults

test-slow: $(STAMP)  ## full-size models and resolutions
	$(PY) -m pytest -m slow

test-faults: $(STAMP)  ## the fault-injection suite alone (damaged and odd input, signals, full disk; every command); rewrites docs/reliability.md
	$(PY) -m pytest tests/faults -q

tflite: $(STAMP)  ## VARIANT=ghost_s PRECISION=int8 [SIZE= CLASSES= WEIGHTS= DATA= CALIB= OUT= FORCE=1] (with WEIGHTS: VARIANT, SIZE, CLASSES, labels from the file)
	$(RUN) -m convert $(CONVERT_ARGS)

VARIANTS ?= b0,s,ghost_b0,ghost_s
PRECISIONS ?= fp32,fp16,dynamic,int8,int16x8
conversion-figures: $(STAMP)  ## wall time, peak memory, size of each VARIANTS x PRECISIONS conversion into OUT
	$(RUN) -m convert.cost --variants $(VARIANTS) --precisions $(PRECISIONS) --out $(call quote,$(OUT))

profile: $(STAMP)  ## MODEL=x.tflite [OTHER="y.tflite z.tflite" THREADS=1 BACKEND=cpu|arm-a76|... OUT=bench-results/profile]: time (perf) or emulated ARM instructions per XNNPACK kernel and op type
	@test -n "$(MODEL)" || { echo "error: make profile MODEL=file.tflite [OTHER=second.tflite]" >&2; exit 2; }
	$(RUN) -m bench.profile $(call quote,$(MODEL)) $(OTHER) --threads $(if $(filter command line,$(origin THREADS)),$(THREADS),1) \
		--out $(call quote,$(if $(OUT_GIVEN),$(OUT),bench-results/profile)) $(if $(BACKEND),--backend $(BACKEND))

perf-install:  ## Linux perf for make profile (Debian's linux-perf; needs root)
	apt-get install -y --no-install-recommends linux-perf

ship: $(STAMP)  ## [VARIANT=the last converted PRECISION=int8 ARTIFACTS=artifacts OUT=dist]: the .tflite, labels, manifest, MODEL_CARD.md, Kotlin for an app
	$(RUN) -m convert.ship $(if $(VARIANT_GIVEN),$(VARIANT)) --precision $(PRECISION) --artifacts $(call quote,$(or $(ARTIFACTS),artifacts)) \
		--out $(call quote,$(if $(OUT_GIVEN),$(OUT),dist))

bench: $(STAMP)  ## size/latency/memory of MODELS (default artifacts/*/*.tflite) across BACKENDS [OUT=bench-results]
	$(RUN) -m bench $(MODELS) --backends $(call quote,$(BACKENDS)) --num_threads $(THREADS) --num_runs $(RUNS) --warmup_runs $(WARMUP) \
		--out $(call quote,$(if $(OUT_GIVEN),$(OUT),bench-results))

bench-legacy-env: $(LEGACY_VENV)/.installed  ## tflite-runtime 2.14 (numpy<2) for the `legacy` backend

$(LEGACY_VENV)/.installed: bench/requirements-legacy.txt
	$(PYTHON) -m venv $(LEGACY_VENV)
	$(LEGACY_VENV)/bin/pip install --quiet -r bench/requirements-legacy.txt
	touch $@

mediapipe-env: $(MEDIAPIPE_VENV)/.installed  ## MediaPipe Tasks in its own environment (its absl-py clashes with TFMOT's), for the client tests

$(MEDIAPIPE_VENV)/.installed: convert/requirements-mediapipe.txt
	$(PYTHON) -m venv $(MEDIAPIPE_VENV)
	$(MEDIAPIPE_VENV)/bin/pip install --quiet -r convert/requirements-mediapipe.txt
	touch $@

KOTLIN_ENV := .kotlin-env
KOTLINC_VERSION := 2.4.20
kotlin-env: $(KOTLIN_ENV)/.installed  ## kotlinc (npm's kotlin-compiler) to compile make ship's Kotlin in the tests; a Java 17 runtime from apt if none (root)

$(KOTLIN_ENV)/.installed:
	@command -v java >/dev/null || { apt-get update -q && apt-get install -y -q openjdk-17-jre-headless; } \
		|| { echo "error: kotlinc needs a Java runtime: install openjdk-17-jre-headless (needs root)" >&2; exit 1; }
	@command -v npm >/dev/null || { apt-get update -q && apt-get install -y -q npm; } \
		|| { echo "error: kotlin-compiler comes from npm: install npm (needs root)" >&2; exit 1; }
	npm install --prefix $(KOTLIN_ENV) --no-audit --no-fund --silent kotlin-compiler@$(KOTLINC_VERSION)
	touch $@

clients-env: mediapipe-env bench-legacy-env kotlin-env  ## the client environments and kotlinc (CI builds them: .ci/run)

arm-env: $(STAMP)  ## emulated ARM cores (qemu-user, arm64 sysroot, aarch64 LiteRT, instruction counter) in .arm-env for the arm-* backends (needs root once; a rebuilt env: FORCE=1)
	$(PY) -m runtime.arm.build $(if $(filter-out 0,$(FORCE)),--force)

arm-yardstick: $(STAMP)  ## [ALSO="x.tflite y.tflite" OUT=bench-results/arm_yardstick]: EfficientNet-Lite0 counted on the emulated A76, estimated as Pixel 4 ms beside its published latency (and ALSO with the same model)
	$(RUN) -m studies.arm_yardstick --out $(call quote,$(if $(OUT_GIVEN),$(OUT),bench-results/arm_yardstick)) \
		$(if $(ALSO),--also $(ALSO))

arm-counts: $(STAMP)  ## [ARM_VARIANTS=b0,s,... ARM_CORES=a53,a76,...]: emulated instructions per inference of untrained 224 px files into runtime/arm/counts.csv (make tflite names the fewest on its ARM_CHECK core from it)
	$(RUN) -m studies.arm_counts $(if $(ARM_VARIANTS),--variants $(ARM_VARIANTS)) $(if $(ARM_CORES),--cores $(ARM_CORES))

bench-gpu-sw:  ## software Vulkan (lavapipe) so the gpu backend runs without a GPU (needs root)
	bench/setup_gpu_sw.sh

train: $(STAMP)  ## VARIANT=ghost_b0 DATA=folder [SIZE= EPOCHS= BATCH= WEIGHTS=imagenet|x.keras RECIPE= STAGES= ACTIVATION= SE=0 FLIP=auto|on|off RANDAUG=5:15 MIXUP=0:0.2 SMOOTHING=0.1 EMA=0.99 STRENGTH=0-1 OUT=runs/NAME]
	@test -n "$(DATA)" || { echo "error: DATA is required: make train VARIANT=ghost_b0 DATA=folder (make demo-data makes one)" >&2; exit 2; }
	$(RUN) -m train $(TRAIN_ARGS)

evaluate: $(STAMP)  ## MODEL=file.keras|.tflite DATA=folder [OUT=dir] [REFERENCE=other model]
	@test -n "$(MODEL)" -a -n "$(DATA)" || { echo "error: make evaluate MODEL=file.keras|file.tflite DATA=folder" >&2; exit 2; }
	$(RUN) -m train.evaluate --model $(call quote,$(MODEL)) --data $(call quote,$(DATA)) $(if $(OUT_GIVEN),--out $(call quote,$(OUT))) \
		$(if $(REFERENCE),--reference $(call quote,$(REFERENCE)))

ABLATION_VARIANTS ?= s,s_all_mbconv,s_all_fused,s_half_depth,s_two_stages_dropped
ablation: $(STAMP)  ## DATA=folder [VARIANTS=s,s_all_mbconv,...] [GHOST=1] [SIZE=128] [EPOCHS=] [OUT=runs/ablation]
	@test -n "$(DATA)" || { echo "error: DATA is required: make ablation DATA=folder (make demo-data makes one)" >&2; exit 2; }
	$(RUN) -m studies.ablation --data $(call quote,$(DATA)) --variants $(if $(filter command line,$(origin VARIANTS)),$(VARIANTS),$(ABLATION_VARIANTS)) \
		--out $(call quote,$(if $(OUT_GIVEN),$(OUT),runs/ablation)) $(if $(GHOST),--ghost) $(if $(SIZE),--size $(SIZE)) \
		$(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(BATCH),--batch $(BATCH)) $(if $(RECIPE),--recipe $(RECIPE))

qat: $(STAMP)  ## WEIGHTS=trained.keras DATA=folder VARIANT= [SIZE= CLASSES= EPOCHS=3 LR= RANGE_BATCHES=10 OUT=artifacts BASELINE=1]: OUT/VARIANT/VARIANT_int8_qat.tflite (BASELINE=1: same epochs in float, then PTQ)
	@test -n "$(WEIGHTS)" -a -n "$(DATA)" || { echo "error: make qat WEIGHTS=trained.keras DATA=folder VARIANT=... (make train writes runs/VARIANT/model.keras)" >&2; exit 2; }
	$(RUN) -m studies.finetune $(WEIGHTS_VARIANT) --weights $(call quote,$(WEIGHTS)) --data $(call quote,$(DATA)) --out $(call quote,$(OUT)) \
		$(if $(SIZE),--size $(SIZE)) $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(BATCH),--batch $(BATCH)) $(if $(LR),--lr $(LR)) $(if $(RANGE_BATCHES),--range-batches $(RANGE_BATCHES)) \
		$(if $(CLASSES),--classes $(CLASSES)) $(if $(BASELINE),--float-baseline)

quant-report: $(STAMP)  ## WEIGHTS=trained.keras DATA=folder VARIANT= [SIZE= CLASSES= CALIB_PERCENTILE=90 OUT=beside WEIGHTS]: per-layer int8 error of make tflite's file, ranked
	@test -n "$(WEIGHTS)" -a -n "$(DATA)" || { echo "error: make quant-report WEIGHTS=trained.keras DATA=folder VARIANT=..." >&2; exit 2; }
	$(RUN) -m studies.quant_report $(WEIGHTS_VARIANT) --weights $(call quote,$(WEIGHTS)) --data $(call quote,$(DATA)) $(if $(OUT_GIVEN),--out $(call quote,$(OUT))) \
		$(if $(SIZE),--size $(SIZE)) $(if $(CLASSES),--classes $(CLASSES)) \
		$(if $(CALIB_PERCENTILE),--calib-percentile $(CALIB_PERCENTILE))

calib-study: $(STAMP)  ## WEIGHTS=trained.keras DATA=folder VARIANT= [SIZE= CLASSES= CALIB=100 PERCENTILES=100,99,95,90 SEEDS=0,1,2 OUT=beside WEIGHTS]: which CALIB_PERCENTILE, over calibration samples
	@test -n "$(WEIGHTS)" -a -n "$(DATA)" || { echo "error: make calib-study WEIGHTS=trained.keras DATA=folder VARIANT=..." >&2; exit 2; }
	$(RUN) -m studies.calib_study $(WEIGHTS_VARIANT) --weights $(call quote,$(WEIGHTS)) --data $(call quote,$(DATA)) --calib $(CALIB) \
		$(if $(OUT_GIVEN),--out $(call quote,$(OUT))) $(if $(SIZE),--size $(SIZE)) $(if $(CLASSES),--classes $(CLASSES)) \
		$(if $(PERCENTILES),--percentiles $(PERCENTILES)) $(if $(SEEDS),--seeds $(SEEDS))

demo-data: $(STAMP)  ## a generated, seeded image-classification set in OUT=data/demo (train/ and val/) [SET=fine: 18 classes]
	$(RUN) -m train.demo_data --out $(call quote,$(if $(OUT_GIVEN),$(OUT),data/demo$(if $(SET),_$(SET)))) $(if $(SET),--set $(SET))

study-folders: $(STAMP)  ## labelled train/ + test/ folders from data packages ship (digits, photos, faces) in OUT=data/study
	$(RUN) -m train.study_folders --out $(call quote,$(if $(OUT_GIVEN),$(OUT),data/study))

STUDY_FOLDERS ?= data/study/digits,data/study/photos,data/study/faces
STUDY_VARIANTS ?= b0,ghost_b0,ghostlite_b0
defaults-study: $(STAMP)  ## make train's defaults against a plain loop, float and int8 test top-1 [STUDY_FOLDERS= STUDY_VARIANTS= SEEDS=0 SIZE=64 OUT=runs/defaults_study]
	$(RUN) -m studies.defaults_study --folders $(call quote,$(STUDY_FOLDERS)) --variants $(STUDY_VARIANTS) --size $(or $(SIZE),64) \
		--out $(call quote,$(if $(OUT_GIVEN),$(OUT),runs/defaults_study)) $(if $(SEEDS),--seeds $(SEEDS))

figures: $(STAMP)  ## every PNG in docs/figures drawn again from its raw results in docs/figures/raw (no measuring)
	$(RUN) -m studies.figures

models-table: $(STAMP)  ## parameters and MACs of all 16 variants (the table in docs/models.md)
	$(RUN) -m models table

clean:
	rm -rf $(VENV) .pytest_cache

# `make test` and `make bench` set up everything they need on a fresh machine:
# a .venv with the package installed editable (which compiles the C tape) and its extras.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# ORACLE=1 installs PyTorch (the CPU build, exactly this version) as the test oracle.
ORACLE ?= 1
TORCH  ?= torch==2.13.0
# CuPy is installed even on machines without a GPU, so the "CuPy present, no GPU" fallback
# is exercised for real. The wheel follows the driver's CUDA major version (nvidia-smi's
# "CUDA Version"): cupy-cuda12x on a CUDA 12 driver, cupy-cuda13x otherwise (and without a
# driver). CUPY=... picks one by hand; CUPY= skips it.
CUDA_MAJOR := $(shell nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\)\..*/\1/p' | head -n 1)
CUPY   ?= $(if $(filter 12,$(CUDA_MAJOR)),cupy-cuda12x,cupy-cuda13x)
STAMP  := $(VENV)/.installed-oracle$(ORACLE)-$(CUPY)

.PHONY: test test-simd gpu-check bench bench-quick fuzz report venv clean docs mutate

venv: $(STAMP)

$(STAMP): pyproject.toml autograd_gpu/autograd/_tape.c kernels/host_optim.cpp kernels/optim.cuh kernels/ag_common.cuh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,viz,plot]'
	if [ -n "$(CUPY)" ]; then $(BIN)/pip install -q $(CUPY); fi
	if [ "$(ORACLE)" = "1" ]; then $(BIN)/pip install -q '$(TORCH)'; fi
	if command -v mpirun >/dev/null && command -v mpicc >/dev/null; then $(BIN)/pip install -q -e '.[distributed]'; fi  # mpi4py, where MPI is installed
	touch $@

test: $(STAMP)
	AUTOGRAD_GPU_ORACLE=$(ORACLE) $(BIN)/python -m pytest -q -p no:cacheprovider tests

# NumPy picks its SIMD code for exp/log/tanh by CPU (AVX-512, AVX2, the x86-64 baseline).
# test-simd reruns the tests that compare against those functions (marker `simd`) at the two
# levels below AVX-512, so one machine checks what the others would compute. (Names of
# features a CPU lacks are ignored.)
SIMD_LEVELS := "AVX512_ICL X86_V4" "AVX512_ICL X86_V4 X86_V3"
test-simd: $(STAMP)
	for features in $(SIMD_LEVELS); do \
	  echo "NPY_DISABLE_CPU_FEATURES=\"$$features\""; \
	  NPY_DISABLE_CPU_FEATURES="$$features" AUTOGRAD_GPU_ORACLE=$(ORACLE) \
	    $(BIN)/python -m pytest -q -p no:cacheprovider -m simd tests || exit 1; \
	done

# For a lent CUDA machine with no network: its own python (PYTHON=, default python3) already
# has CuPy, PyTorch with CUDA, NumPy and pytest. No venv, no download: installs this checkout,
# runs the cuda tests, the examples on cuda, the bench and the kernel bench, memcheck, and
# writes it all under bench/results/gpu-check-*/ (see bench/gpu_check.py; under 8 minutes).
# GPU_CHECK_STANDIN=1 rehearses it on a machine without a GPU, on the CuPy stand-in.
gpu-check:
	$(PYTHON) -m bench.gpu_check $(if $(GPU_CHECK_STANDIN),--standin,)

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

report: $(STAMP)
	$(BIN)/python -m bench.report

# The documentation site (Sphinx; docs/_build/html/index.html), warnings as errors. The API
# reference, the PyTorch compatibility table (from the oracle torch) and the benchmark
# report are generated from the tree at build time (docs/_ext/).
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[docs]'
	touch $@

docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -b html -E -W --keep-going -j auto -q docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

fuzz: $(STAMP)
	AUTOGRAD_GPU_FUZZ=long $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

# Mutation testing (mutmut, the extra 'mutation'): mutmut mutates a staged copy of the package
# (build/mutation, made by tests/mutation/stage.py; the checkout is never touched) and runs,
# for each mutant, the tests of tests/mutation/setup.cfg that reach the mutated function.
# MUTANTS: mutmut's name globs; by default the backward methods of ops/, the optimizer
# updates, the engine and tape rules and serialization. A narrower run:
# make mutate MUTANTS='autograd_gpu.ops.reduction.*'. Survivors are listed in
# build/mutation/survivors.txt; `cd build/mutation && ../../.venv/bin/mutmut show NAME` shows one.
MUTANTS ?= 'autograd_gpu.ops.*ǁbackward__mutmut_*' 'autograd_gpu.optim._functional.*' \
           'autograd_gpu.autograd.engine.*' 'autograd_gpu.autograd.node.*' 'autograd_gpu.serialization.*'
MUTATE_DIR ?= build/mutation
mutate: $(STAMP)
	$(BIN)/pip install -q -e '.[mutation]'
	mkdir -p $(MUTATE_DIR)
	$(BIN)/python tests/mutation/stage.py $(MUTATE_DIR)
	cd $(MUTATE_DIR) && AUTOGRAD_GPU_ORACLE=1 $(abspath $(BIN))/mutmut run --max-children 2 $(MUTANTS) > mutmut-run.log 2>&1; \
	  $(abspath $(BIN))/mutmut results | grep -v ': killed' | tee survivors.txt

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/generated docs/api/generated

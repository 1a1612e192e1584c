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

$(STAMP): pyproject.toml setup.py autograd_gpu/autograd/_tape.c autograd_gpu/backend/_host_arith.c autograd_gpu/backend/_host_memory.c kernels/host_optim.cpp kernels/host_optim_steps.inc kernels/host_grad.cpp kernels/host_api.h kernels/elementwise_grad.cuh kernels/optim.cuh kernels/ag_common.cuh
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

# Mutation testing (mutmut 3, the extra 'mutation'), one area at a time: tests/mutation/stage.py
# stages a copy of the package for the area (build/mutation/AREA; the checkout is never
# touched) with its mutmut configuration, drawn from tests/mutation/setup.cfg (the area's
# files, mutant globs and test subset); mutmut runs, for each mutant, the area's tests that
# reach the mutated function. MUTATE_AREAS: by default the backward formulas and the
# backward methods of ops/arithmetic.py (ops), the optimizer updates (optim), the engine rules
# (engine) and serialization: 2,764 mutants in 16 minutes on the 2 shared cores (see
# docs/development.md). The whole scope (hours): make mutate MUTATE_AREAS=full. MUTANTS
# (mutmut's name globs, for one area) narrows a run, e.g.
# make mutate MUTATE_AREAS=full MUTANTS="'autograd_gpu.ops.conv.*'". Survivors (every
# status but killed) are listed in build/mutation/survivors.txt; `cd build/mutation/AREA &&
# ../../../.venv/bin/mutmut show NAME` shows one's diff.
# (OMP_NUM_THREADS=1: mutmut forks each mutant's run from a process that has run tests, and
# an OpenMP pool that PyTorch started there hangs the child at its next parallel op.)
MUTATE_AREAS ?= ops optim engine serialization
MUTANTS ?=
MUTATE_DIR ?= build/mutation
mutate: $(STAMP)
	$(BIN)/python -c 'import mutmut' 2>/dev/null || $(BIN)/pip install -q -e '.[mutation]'
	mkdir -p $(MUTATE_DIR)
	rm -f $(MUTATE_DIR)/survivors.txt $(MUTATE_DIR)/times.txt
	for area in $(MUTATE_AREAS); do \
	  $(BIN)/python tests/mutation/stage.py $(MUTATE_DIR)/$$area $$area $(MUTANTS) || exit 1; \
	  echo "$$area: started $$(date +%T)" | tee -a $(MUTATE_DIR)/times.txt; \
	  (cd $(MUTATE_DIR)/$$area && AUTOGRAD_GPU_ORACLE=1 OMP_NUM_THREADS=1 xargs -a mutants.txt -d '\n' \
	    $(abspath $(BIN))/mutmut run --max-children 2 > mutmut-run.log 2>&1) || { \
	    tail -n 20 $(MUTATE_DIR)/$$area/mutmut-run.log; echo "$$area: mutmut failed"; exit 1; }; \
	  (cd $(MUTATE_DIR)/$$area && $(abspath $(BIN))/mutmut results) | \
	    grep -a -v -E ': (killed|not checked)$$' | sed "s|^ *|$$area |" >> $(MUTATE_DIR)/survivors.txt; \
	  echo "$$area: done $$(date +%T), $$(tr '\r' '\n' < $(MUTATE_DIR)/$$area/mutmut-run.log | \
	    grep -a 'mutations/second'), $$(grep -c "^$$area " $(MUTATE_DIR)/survivors.txt) not killed" \
	    | tee -a $(MUTATE_DIR)/times.txt; \
	done
	@echo "not killed: $$(wc -l < $(MUTATE_DIR)/survivors.txt) (listed in $(MUTATE_DIR)/survivors.txt)"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/generated docs/api/generated

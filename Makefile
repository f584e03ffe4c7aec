# Scion: the two set-up commands are `make demo` and `make test`; both install what is missing.
SWIFT ?= swift
CONFIG = -c release
BIN = .build/release/scion
DEMO = runs/demo
# The whole defense on Fashion-MNIST (installed from Debian) with badnet_grid planted: the
# undefended baseline, stage 1 (trap), stage 2 (replace) and stage 3 (recover), in a few minutes.
DEMO_DATA = --ds fashion-mnist --pattern badnet_grid --target 0 --out $(DEMO) --quiet
# Each stage is evaluated once, at its end: the curves' intermediate points cost 50 s of the
# demo's 6 minutes. Two trap epochs already trap the trigger (every split found all poisons);
# the time of a third buys a fifth recover epoch, which wears down what the stem remembers
# (docs/RECOVER.md, "Cost").
DEMO_EPOCHS = --baseline-epochs 2 --trap-epochs 2 --replace-epochs 15 --recover-epochs 5 --eval-every 100

.PHONY: setup build mpi test demo clean

setup:
	@tools/setup.sh

build: setup
	$(SWIFT) build $(CONFIG) --product scion

# The release scion with data-parallel training over Open MPI (package trait MPI), at the usual
# path; installs Open MPI if missing. `mpirun -np N .build/release/scion train ...` then trains
# on N processes. `make build` goes back to the default build.
mpi:
	@tools/setup.sh --mpi
	$(SWIFT) build $(CONFIG) --product scion --traits MPI
	$(SWIFT) build $(CONFIG) --product scion-mpi-check --traits MPI

test: setup
	python3 tools/check_imports.py
	@# The layout (docs/ARCHITECTURE.md, Conventions): swift-format ships with Swift; .swift-format.
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests
	$(SWIFT) build $(CONFIG) --build-tests
	$(SWIFT) test $(CONFIG) --skip-build
	@# The microkernels are compiled for AVX-512 and for AVX2; an AVX-512 machine runs the first,
	@# so the kernel tests run once more on the second.
	@if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then \
		SCION_KERNELS=avx2 $(SWIFT) test $(CONFIG) --skip-build --filter ScionKernelTests; fi

demo: build
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN) defend $(DEMO_DATA) $(DEMO_EPOCHS)
	@cat $(DEMO)/report.md
	@echo "Serve the defended model: $(BIN) serve $(DEMO)/recovered.h5 --port 8080"

clean:
	rm -rf .build runs

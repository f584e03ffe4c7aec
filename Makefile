# Scion: the two set-up commands are `make demo` and `make test`; both install what is missing.
SWIFT ?= swift
CONFIG = -c release
BIN = .build/release/scion
DEMO = runs/demo

.PHONY: setup build test demo clean

setup:
	@tools/setup.sh

build: setup
	$(SWIFT) build $(CONFIG) --product scion

test: setup
	$(SWIFT) build $(CONFIG) --build-tests
	$(SWIFT) test $(CONFIG) --skip-build

demo: build
	@mkdir -p $(DEMO)
	$(BIN) init --arch wrn16-1 --classes 10 --input 3x32x32 --seed 0 -o $(DEMO)/wrn16-1.h5
	$(BIN) inspect $(DEMO)/wrn16-1.h5
	tools/zeros_npy.sh $(DEMO)/zeros.npy 4 3 32 32
	$(BIN) run $(DEMO)/wrn16-1.h5 --input $(DEMO)/zeros.npy --output $(DEMO)/logits.npy

clean:
	rm -rf .build runs

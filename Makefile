# The two commands of README.md. Each installs what is missing (Debian packages), builds, and runs.
PRESET ?= release
JOBS ?= 2
DEMO ?= 03_learning_alpha
FUZZ_SEEDS ?= 20000
FUZZ_FIRST ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test fuzz bench asan tsan docs deps clean
deps:
	bash scripts/install-deps.sh
	bash scripts/fetch-mnist.sh
	bash scripts/fetch-co2.sh

demo: deps
	bash scripts/install-deps.sh gnuplot-nox
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) --target demo_example
	cd examples/$(DEMO) && ../../build/$(PRESET)/examples/example_$(DEMO)

test: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)
	ctest --preset $(PRESET)

# Differential fuzzing with many more seeds than ctest runs (tests/fuzz): prints graphs checked, skipped, failed.
fuzz: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) --target test_fuzz
	XGRAD_FUZZ_SEEDS=$(FUZZ_SEEDS) XGRAD_FUZZ_FIRST=$(FUZZ_FIRST) build/$(PRESET)/tests/test_fuzz

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan

tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan
	ctest --preset tsan

bench: deps
	cmake --preset $(PRESET) >/dev/null
	PRESET=$(PRESET) bash bench/run_all.sh

docs:
	bash scripts/install-deps.sh doxygen
	mkdir -p build/docs
	doxygen docs/Doxyfile
	@if [ -s build/docs/warnings.log ]; then cat build/docs/warnings.log; echo "docs: doxygen warnings"; exit 1; fi
	@echo "docs: build/docs/html/index.html"

clean:
	rm -rf build

# The two commands of README.md. Each installs what is missing (Debian packages), builds, and runs.
PRESET ?= release
JOBS ?= 2
DEMO ?= 03_learning_alpha
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test bench asan tsan docs deps clean
deps:
	bash scripts/install-deps.sh

demo: deps
	bash scripts/install-deps.sh gnuplot-nox
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) --target demo_example
	cd examples/$(DEMO) && ../../build/$(PRESET)/examples/example_$(DEMO)

test: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)
	ctest --preset $(PRESET)

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

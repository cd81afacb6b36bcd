# wattprint: the user's interface to the build. CMake does the work.
#   make          build build/wattprint
#   make demo     measure a bundled CPU-bound workload
#   make check    the whole test suite (sanitizers, ThreadSanitizer, fuzzing, CLI tests)
#   make bench    overhead benchmarks (figures go in BENCHMARKS.md)
#   make install  install the binary and man page under PREFIX (default /usr/local)

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CHECK_DIR := build-check
BENCH_DIR := build-bench
TSAN_DIR := build-tsan
TSAN_TESTS := unit_threads unit_api unit_meter unit_checkpoints

.PHONY: all build demo check bench install clean format deps deps-check

all: build

deps:
	@sh scripts/bootstrap.sh build

deps-check:
	@sh scripts/bootstrap.sh check

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build build -j $(JOBS) -- --no-print-directory

demo: build
	@sh scripts/demo.sh

check: deps-check
	@cmake -S . -B build -DWATTPRINT_WERROR=ON >/dev/null
	@cmake --build build -j $(JOBS) -- --no-print-directory
	@cmake -S . -B $(CHECK_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DWATTPRINT_SANITIZE=ON -DWATTPRINT_TESTS=ON -DWATTPRINT_FUZZ=ON -DWATTPRINT_WERROR=ON \
		-DWATTPRINT_PYLIB=$(CURDIR)/build/libwattprint.so >/dev/null
	@cmake --build $(CHECK_DIR) -j $(JOBS) -- --no-print-directory
	@# the library's threads under ThreadSanitizer (it cannot share a build with ASan)
	@cmake -S . -B $(TSAN_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DWATTPRINT_TSAN=ON -DWATTPRINT_TESTS=ON -DWATTPRINT_WERROR=ON >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target $(subst unit_,test_,$(TSAN_TESTS)) \
		-- --no-print-directory
	@cd $(TSAN_DIR) && ctest --output-on-failure -R '^($(subst $() ,|,$(TSAN_TESTS)))$$'
	@# twice the cores: most CLI tests wait on servers and clocks, not on a CPU
	@cd $(CHECK_DIR) && ctest --output-on-failure -j $$(( $(JOBS) * 2 ))

bench: deps-check
	@cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release -DWATTPRINT_BENCH=ON -DWATTPRINT_TESTS=ON >/dev/null
	@cmake --build $(BENCH_DIR) -j $(JOBS) -- --no-print-directory
	@sh bench/run.sh $(BENCH_DIR)

install: build
	@cmake --install build --prefix $(PREFIX)
	@# the dynamic linker's cache, so that libwattprint.so.0 is found (Python's binding)
	@if [ "$$(id -u)" = 0 ] && [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

format:
	@clang-format -i $$(find src tests bench examples tools -name '*.[ch]')

clean:
	rm -rf build $(CHECK_DIR) $(BENCH_DIR) $(TSAN_DIR)

# Thin wrapper over CMake. `make run` is the main job (trains the sample CNN on Fashion-MNIST and
# prints its test accuracy), `make run-lm` trains the character-level GPT on Debian's fortunes and
# prints text it writes, `make test` runs every test. Each installs what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

# Sanitizer and fuzzing jobs (docs/RELIABILITY.md), each in its own build folder:
#   make test-sanitize  the whole suite under ASan + UBSan + LeakSanitizer (clang; the same build
#                       has the fuzz harnesses), plus the canaries that must abort
#   make test-tsan      the concurrency and engine tests under ThreadSanitizer, plus its canary
#                       (without OpenMP: libgomp is not instrumented, its barriers look racy)
#   make fuzz           every fuzz harness for FUZZ_SECONDS (in the test-sanitize build)
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 60
FUZZ_PARALLEL ?= $(JOBS)
# -O1 with line tables only: fast enough to build and run, and reports name file and line.
SAN_CONFIG = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAD_BUILD_BENCH=OFF
# Leaks fail the run; UBSan already aborts (-fno-sanitize-recover=all) and prints a stack.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:allocator_may_return_null=1 \
          UBSAN_OPTIONS=print_stacktrace=1

.PHONY: deps configure build run run-seq-mnist run-lm test bench format format-check clean test-sanitize test-tsan fuzz \
        deps-fuzz deps-format

deps-fuzz:
	bash scripts/install_deps.sh ci

deps-format:
	bash scripts/install_deps.sh format

deps:
	bash scripts/install_deps.sh test

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > /dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: configure
	bash scripts/install_deps.sh run
	cmake --build $(BUILD) -j $(JOBS) --target train_cnn
	./$(BUILD)/train_cnn $(ARGS)

# The row-by-row LSTM on Fashion-MNIST (examples/train_seq_mnist), its test accuracy at the end.
run-seq-mnist: configure
	bash scripts/install_deps.sh run
	cmake --build $(BUILD) -j $(JOBS) --target train_seq_mnist
	./$(BUILD)/train_seq_mnist $(ARGS)

# The character-level language model on Debian's fortunes (examples/train_lm), then its text.
run-lm: configure
	bash scripts/install_deps.sh lm
	cmake --build $(BUILD) -j $(JOBS) --target train_lm
	./$(BUILD)/train_lm $(ARGS)

test: build
	bash scripts/install_deps.sh browser
	cd $(BUILD) && ctest --output-on-failure

test-sanitize: deps-fuzz
	CXX=clang++ cmake -S . -B $(ASAN_BUILD) $(SAN_CONFIG) -DXGRAD_SANITIZE=ON -DXGRAD_FUZZ=ON \
	    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" $(CMAKE_FLAGS) > /dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	# report_browser checks a page in Chromium: nothing of xgrad's to sanitize there.
	cd $(ASAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -E '^report_browser$$'

test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(SAN_CONFIG) -DXGRAD_TSAN=ON -DXGRAD_BUILD_EXAMPLES=OFF \
	    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DXGRAD_OPENMP=OFF -DXGRAD_GEMM=openblas \
	    -DXGRAD_TEST_FILTER='^test_(concurrency|engine)$$' $(CMAKE_FLAGS) > /dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target xgrad_tests sanitizer_canary
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	    ctest --output-on-failure -R '^(test_concurrency|test_engine|sanitizer_canary_race)$$'

fuzz: deps-fuzz
	FUZZ_BUILD=$(ASAN_BUILD) FUZZ_PARALLEL=$(FUZZ_PARALLEL) JOBS=$(JOBS) bash scripts/fuzz.sh $(FUZZ_SECONDS)

bench:
	bash scripts/install_deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCH=ON $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD) -j $(JOBS) --target bench_steps bench_gemm bench_ops bench_conv bench_layers
	cmake --build $(BUILD) -j $(JOBS) --target bench_peers
	./$(BUILD)/bench/bench_steps
	./$(BUILD)/bench/bench_steps --peers --rounds 3
	./$(BUILD)/bench/bench_gemm
	./$(BUILD)/bench/bench_ops
	./$(BUILD)/bench/bench_conv
	./$(BUILD)/bench/bench_layers

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

# Fails, naming file and line, if a tracked source differs from `make format` (.clang-format).
format-check: deps-format
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)

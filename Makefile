# Thin wrapper over CMake. `make run` is the main job (trains the sample CNN on Fashion-MNIST and
# prints its test accuracy), `make test` runs every test. Both install what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build run test bench format clean

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

test: build
	cd $(BUILD) && ctest --output-on-failure

bench:
	bash scripts/install_deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCH=ON $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD) -j $(JOBS) --target bench_steps bench_gemm bench_ops bench_conv bench_layers
	./$(BUILD)/bench/bench_steps
	./$(BUILD)/bench/bench_gemm
	./$(BUILD)/bench/bench_ops
	./$(BUILD)/bench/bench_conv
	./$(BUILD)/bench/bench_layers

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)

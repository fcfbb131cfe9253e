# Front door. `make run` and `make test` are the two commands a newcomer
# needs; everything else is CMake + Ninja underneath.
BUILD    ?= build
SANITIZE ?= 0
WERROR   ?= 0
DATA     ?= var
LISTEN   ?= 127.0.0.1:8080
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

CMAKE_FLAGS = -G Ninja -DGUICHET_SANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF) \
              -DGUICHET_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF)

.PHONY: all build deps run test unit fuzz bench format checksrc clean

all: build

$(BUILD)/build.ninja:
	@command -v cmake >/dev/null && command -v ninja >/dev/null || scripts/deps.sh
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	scripts/deps.sh

# Install what is missing, build, create the demo commune, import the
# service-public fiches relevant to a mairie (when npm is reachable), serve.
run:
	scripts/deps.sh
	$(MAKE) build
	$(BUILD)/guichet --data $(DATA) init --demo
	-scripts/import-service-public.sh $(BUILD) $(DATA)
	$(BUILD)/guichet --data $(DATA) serve --listen $(LISTEN)

# Every test: unit, HTTP, fuzz corpora replay, browser; the store and
# HTTP tests a second time on PostgreSQL (scripts/pgtest.sh starts the
# local cluster if needed and prints the test database's conninfo).
test: build
	scripts/checksrc.sh
	GUICHET_TEST_PG="$$(scripts/pgtest.sh)" && export GUICHET_TEST_PG && \
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	bench/http.sh

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'fuzz/*.c')

checksrc:
	scripts/checksrc.sh

clean:
	rm -rf $(BUILD)

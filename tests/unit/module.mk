# cmocka unit tests: tests/unit/test_NAME.c -> $(TESTBIN)/test_NAME, one binary per module.
# Every test links libmeasure; a test that needs more sets test_NAME_DEPS (archives or
# objects) and test_NAME_LIBS (linker flags) in its component's module.mk.
CMOCKA_LIBS := $(call pkg_libs,cmocka)
UNIT_TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_TESTS += $(UNIT_TEST_SRCS:tests/unit/%.c=$(TESTBIN)/%)

$(TESTBIN)/test_%: $(OBJ)/tests/unit/test_%.o $$(test_$$*_DEPS) $(OBJ)/tests/unit/testutil.o $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(OBJ)/tests/unit/test_$*.o $(OBJ)/tests/unit/testutil.o $(test_$*_DEPS) \
		$(call lib,measure) -o $@ \
		$(test_$*_LIBS) $(CMOCKA_LIBS) $(BASE_LIBS)

# Before the tests run: no symbol of our libraries may shadow one libcmocka exports.
.PHONY: unit-symbols
unit-symbols: $(firstword $(UNIT_TESTS)) $$(STATIC_LIBS)
	@tests/unit/check_symbols.sh $(firstword $(UNIT_TESTS)) $(STATIC_LIBS)
unit-test: unit-symbols

# Before the tests run: no loop of calls between our compilation units (fuzz targets and
# the static ACPI probe are programs of their own).
CYCLE_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(shell find measure guest host-launcher initrd ton -name '*.c' \
	-not -path '*/fuzz/*' -not -path 'host-launcher/probe/*' | sort))
.PHONY: unit-cycles
unit-cycles: $(CYCLE_OBJS)
	@tests/unit/check_cycles.sh $(CYCLE_OBJS)
unit-test: unit-cycles

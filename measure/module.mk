# libmeasure (everything that parses, hashes or verifies evidence) and cocoon-measure.
LIBMEASURE_SRCS := $(sort $(wildcard measure/*.c))
LIBMEASURE := $(LIBDIR)/libmeasure.a
MEASURE_CLI_SRCS := $(sort $(wildcard measure/cli/*.c))

$(LIBMEASURE): $(LIBMEASURE_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/cocoon-measure: $(MEASURE_CLI_SRCS:%.c=$(OBJ)/%.o) $(LIBMEASURE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-measure

# libmeasure (everything that parses, hashes or verifies evidence) and cocoon-measure.
# One folder per subsystem (docs/architecture.md): core, dcap, eventlog, predict, ratls;
# cli/ is cocoon-measure itself.
LIBMEASURE_DIRS := core dcap eventlog predict ratls
LIBMEASURE_SRCS := $(sort $(foreach d,$(LIBMEASURE_DIRS),$(wildcard measure/$(d)/*.c)))
LIBMEASURE := $(LIBDIR)/libmeasure.a
MEASURE_CLI_SRCS := $(sort $(wildcard measure/cli/*.c))

$(LIBMEASURE): $(LIBMEASURE_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The `cert` command verifies RA-TLS certificates with the verifier cocoon-ratls uses
# (measure/ratls/): the auditor runs what the appliance runs, without linking the proxy.
# libmeasure itself depends only on OpenSSL, json-c and libc.
$(BIN)/cocoon-measure: $(MEASURE_CLI_SRCS:%.c=$(OBJ)/%.o) $(LIBMEASURE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-measure

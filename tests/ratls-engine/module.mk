# Test tools for cocoon-ratls: an OpenAI-style streaming engine and a load generator.
# Built with `make` (prerequisites of `all`), not installed.
RATLS_TOOLS := $(BUILD)/tests/ratls-engine $(BUILD)/tests/ratls-load

$(BUILD)/tests/ratls-engine: $(OBJ)/tests/ratls-engine/engine.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ -lpthread

$(BUILD)/tests/ratls-load: $(OBJ)/tests/ratls-engine/loadgen.o $(call lib,cocoonratls) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ -lpthread $(LIBMEASURE_GPU_LIBS) $(BASE_LIBS)

all: $(RATLS_TOOLS)

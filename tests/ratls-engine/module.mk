# Test tools for cocoon-ratls: an OpenAI-style streaming engine, a load generator and a
# Cocoon-like peer.
# Built with `make` (prerequisites of `all`), not installed.
RATLS_TOOLS := $(BUILD)/tests/ratls-engine $(BUILD)/tests/ratls-load $(BUILD)/tests/ratls-cocoon-peer
# sockio.c: the blocking socket I/O the three share.
RATLS_SOCKIO := $(OBJ)/tests/ratls-engine/sockio.o

$(BUILD)/tests/ratls-engine: $(OBJ)/tests/ratls-engine/engine.o $(RATLS_SOCKIO)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ -lpthread

$(BUILD)/tests/ratls-load: $(OBJ)/tests/ratls-engine/loadgen.o $(RATLS_SOCKIO) $(call lib,cocoonratls) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ -lpthread $(LIBMEASURE_GPU_LIBS) $(BASE_LIBS)

# A peer that behaves like Cocoon's router (PoW hand-over, no close_notify): cocoon_peer.c.
$(BUILD)/tests/ratls-cocoon-peer: $(OBJ)/tests/ratls-engine/cocoon_peer.o $(RATLS_SOCKIO) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

all: $(RATLS_TOOLS)

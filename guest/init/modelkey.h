/* Step 10 for an encrypted model (docs/boot.md "Encrypted models"): the key from the key
 * server named in the measured spec, then dm-crypt plain aes-xts-plain64 over the model's
 * verity device. No RTMR3 event: the model string is already in the measured spec. */
#ifndef COCOON_INIT_MODELKEY_H
#define COCOON_INIT_MODELKEY_H

#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

/* Collateral for the key server's quote under tdx (host-provided, unmeasured). */
#define CI_KEYSERVER_COLLATERAL "runtime/keyserver-collateral.json"

struct ci_boot;
struct ci_model;

/* dm-crypt plain (aes, xts-plain64, 512-byte sectors, offset 0) named name over dev's first
 * sectors sectors, read-only; writes "/dev/mapper/<name>" to mapper. */
int ci_crypt_open_plain(const char *name, const char *dev, const uint8_t *key, size_t key_len, uint64_t sectors,
			char *mapper, size_t mappersz, struct cm_err *e);

/* Fetch m's key over mutual RA-TLS (the boot's attestation backend and RTMR3 event log) and
 * open the crypt device "model-<name>" over verity_dev; the key is wiped before returning.
 * Halts with "FATAL models: model <name>: <check>: <why>" on any failure. */
void ci_boot_model_key(struct ci_boot *b, const struct ci_model *m, const char *verity_dev, char *mapper,
		       size_t mappersz);

#endif

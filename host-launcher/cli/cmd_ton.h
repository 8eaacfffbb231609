/* cocoon-launch publish / registry: the Cocoon root contract from the host
 * (docs/publishing.md). The cell code is libton (ton/). */
#ifndef COCOON_LAUNCH_CMD_TON_H
#define COCOON_LAUNCH_CMD_TON_H

#include <stdint.h>

/* registry: the hash asked for is absent (0 = present). */
#define CL_EXIT_ABSENT 5

int cl_cmd_publish(int argc, char **argv);
int cl_cmd_registry(int argc, char **argv);

/* A 32-byte hash from 64 hex digits or standard base64 (as gen-cert's *_image_hash.b64). */
int cl_ton_hash_arg(const char *s, uint8_t out[32]);

#endif

/* cocoon-mkinitrd: archive compression with pinned parameters (compress.c). */
#ifndef COCOON_INITRD_COMPRESS_H
#define COCOON_INITRD_COMPRESS_H

#include "initrd/tree.h"
#include "measure/core/util.h"

/* Compression with pinned parameters: "zstd" (libzstd level 19, single-threaded mode,
 * content checksum), "gzip" (zlib level 9, no name, mtime 0) or "none". */
int mi_compress(const char *method, const struct mi_buf *in, struct mi_buf *out, struct cm_err *e);

#endif

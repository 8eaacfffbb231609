/* cocoon-mkinitrd: pinned compressor configurations (the initrd bytes are measured). */
#include "initrd/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static int zstd_compress(const struct mi_buf *in, struct mi_buf *out, struct cm_err *e)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!cc)
		return cm_fail(e, -ENOMEM, "ZSTD_createCCtx failed");
	int rc = 0;
	/* Level 19, single-threaded mode (nbWorkers 0: its output differs from -T N), content
	 * checksum on. Byte identity also needs the same libzstd version (pinned by Debian). */
	size_t r = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 19);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cc, ZSTD_c_nbWorkers, 0);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cc, in->len);
	if (ZSTD_isError(r)) {
		rc = cm_fail(e, -EINVAL, "zstd parameters: %s", ZSTD_getErrorName(r));
		goto out;
	}
	size_t bound = ZSTD_compressBound(in->len);
	uint8_t *p = malloc(bound ? bound : 1);
	if (!p) {
		rc = cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	r = ZSTD_compress2(cc, p, bound, in->p ? in->p : (const uint8_t *)"", in->len);
	if (ZSTD_isError(r)) {
		free(p);
		rc = cm_fail(e, -EIO, "zstd: %s", ZSTD_getErrorName(r));
		goto out;
	}
	mi_buf_free(out);
	out->p = p;
	out->len = r;
	out->cap = bound;
out:
	ZSTD_freeCCtx(cc);
	return rc;
}

static int gzip_compress(const struct mi_buf *in, struct mi_buf *out, struct cm_err *e)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16: gzip wrapper with zlib's default header (no name, mtime 0). */
	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return cm_fail(e, -ENOMEM, "deflateInit2 failed");
	uLong bound = deflateBound(&zs, (uLong)in->len);
	uint8_t *p = malloc(bound ? bound : 1);
	if (!p) {
		deflateEnd(&zs);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	zs.next_in = in->p ? in->p : (Bytef *)"";
	zs.avail_in = (uInt)in->len;
	zs.next_out = p;
	zs.avail_out = (uInt)bound;
	if ((uLong)in->len != in->len || deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(p);
		return cm_fail(e, -EIO, "gzip compression failed");
	}
	size_t n = zs.total_out;
	deflateEnd(&zs);
	mi_buf_free(out);
	out->p = p;
	out->len = n;
	out->cap = bound;
	return 0;
}

int mi_compress(const char *method, const struct mi_buf *in, struct mi_buf *out, struct cm_err *e)
{
	if (strcmp(method, "zstd") == 0)
		return zstd_compress(in, out, e);
	if (strcmp(method, "gzip") == 0)
		return gzip_compress(in, out, e);
	if (strcmp(method, "none") == 0) {
		mi_buf_free(out);
		return mi_buf_append(out, in->p, in->len, e);
	}
	return cm_fail(e, -EINVAL, "unknown compression '%s' (zstd, gzip or none)", method);
}

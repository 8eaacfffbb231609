/* The `sim` attestation backend: a software TD for machines without TDX.
 *
 * State directory $COCOON_SIM_DIR (default /run/cocoon/sim), shared by every process:
 *   root.pem          trust anchor of the software PCK CA (pass to the verifier with --root)
 *   collateral.json   matching collateral bundle, valid from now - 1 day to now + 30 days
 *   sgx_collateral.json  the same for SGX quotes (the test seal server's enclave)
 *   policy.json       a verifier policy that pins this root's key id (else default policy)
 *   pck_chain.pem, ca_keys.pem, pck_key.pem, ak_key.pem   the CA (keys mode 0600)
 *   registers         MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 (8 x 48 bytes)
 *   report_key        32 random bytes: the "CPU" key that MACs TDREPORTs (HMAC-SHA-256 over
 *                     REPORTMACSTRUCT[0..224)), so a local verifier with the same state (the
 *                     test seal server) can check them as SGX's EVERIFYREPORT2 would
 *   lock              serializes CA creation
 * The registers file is read under flock(LOCK_SH) and extended under flock(LOCK_EX), so
 * separate processes see one register state. extend: R = SHA-384(R || digest). A CA whose
 * collateral expires within a day is replaced by a new one (new root) on open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "guest/attest/attest.h"
#include "guest/attest/simca.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/dcap/collateral.h"

#define REG_COUNT 8 /* MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 */
#define REG_FILE_LEN (REG_COUNT * 48)
#define RENEW_MARGIN 86400

struct sim {
	char dir[256];
	struct ca_simca *ca;
	uint8_t report_key[32]; /* stands in for the CPU's REPORT key (TDREPORT MAC) */
};

static const char *state_dir(void)
{
	const char *d = getenv("COCOON_SIM_DIR");
	return d && *d ? d : "/run/cocoon/sim";
}

static int path_of(const struct sim *s, const char *name, char *out, size_t n, struct cm_err *e)
{
	if ((size_t)snprintf(out, n, "%s/%s", s->dir, name) >= n)
		return cm_fail(e, -ENAMETOOLONG, "sim: state path too long");
	return 0;
}

static int mkdirs(const char *dir, struct cm_err *e)
{
	char p[256];
	if ((size_t)snprintf(p, sizeof(p), "%s", dir) >= sizeof(p))
		return cm_fail(e, -ENAMETOOLONG, "sim: state directory path too long");
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return cm_fail(e, -errno, "sim: cannot create %s: %s", p, strerror(errno));
		*c = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		return cm_fail(e, -errno, "sim: cannot create %s: %s", p, strerror(errno));
	return 0;
}

/* True when the stored CA exists and its collateral stays valid for RENEW_MARGIN. */
static bool ca_fresh(const struct sim *s, struct ca_simca *ca)
{
	char path[300];
	struct cm_err e = {0};
	if (path_of(s, "root.pem", path, sizeof(path), &e))
		return false;
	X509 *root = cm_x509_load_pem_file(path, &e);
	if (!root)
		return false;
	size_t len;
	const char *bundle = ca_simca_collateral(ca, &len);
	struct cm_collateral *c = NULL;
	bool ok = false;
	if (cm_collateral_load(bundle, len, root, &c, &e) == 0) {
		int64_t from, to, now = (int64_t)time(NULL);
		cm_collateral_window(c, &from, &to);
		ok = from <= now && now + RENEW_MARGIN <= to;
	}
	cm_collateral_free(c);
	X509_free(root);
	return ok;
}

static int write_policy(const struct sim *s, struct cm_err *e)
{
	uint8_t rk[48];
	char hex[97], path[300], text[256];
	if (cm_root_key_id(ca_simca_root(s->ca), rk))
		return cm_fail(e, -EINVAL, "sim: root has no EC key");
	cm_hex_encode(rk, 48, hex, sizeof(hex));
	int n = snprintf(text, sizeof(text), "{\"root_key_ids\":[\"%s\"]}\n", hex);
	if (path_of(s, "policy.json", path, sizeof(path), e))
		return e->code;
	int rc = cm_write_file_atomic(path, text, (size_t)n, 0644, e);
	if (rc < 0)
		cm_err_prefix(e, "sim");
	return rc;
}

static int init_registers(const struct sim *s, struct cm_err *e)
{
	char path[300];
	if (path_of(s, "registers", path, sizeof(path), e))
		return e->code;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_fail(e, -errno, "sim: cannot open %s: %s", path, strerror(errno));
	int rc = 0;
	struct stat st;
	if (flock(fd, LOCK_EX) || fstat(fd, &st)) {
		rc = cm_fail(e, -errno, "sim: cannot lock %s: %s", path, strerror(errno));
	} else if (st.st_size != REG_FILE_LEN) {
		/* fresh TD: a fixed MRTD, everything else zero */
		uint8_t regs[REG_FILE_LEN] = {0};
		cm_sha384("cocoon-sim MRTD", 15, regs);
		if (pwrite(fd, regs, sizeof(regs), 0) != (ssize_t)sizeof(regs) || ftruncate(fd, REG_FILE_LEN) ||
		    fsync(fd))
			rc = cm_fail(e, -EIO, "sim: cannot initialize %s", path);
	}
	close(fd);
	return rc;
}

/* Read report_key, creating it (O_EXCL, mode 0600) when absent. Called under the lock. */
static int load_report_key(struct sim *s, struct cm_err *e)
{
	char path[300];
	if (path_of(s, "report_key", path, sizeof(path), e))
		return e->code;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		uint8_t k[32];
		bool ok = RAND_bytes(k, sizeof k) == 1 && write(fd, k, sizeof k) == (ssize_t)sizeof k && fsync(fd) == 0;
		OPENSSL_cleanse(k, sizeof k);
		if (close(fd) || !ok)
			return cm_fail(e, -EIO, "sim: cannot create %s", path);
	} else if (errno != EEXIST) {
		return cm_fail(e, -errno, "sim: cannot create %s: %s", path, strerror(errno));
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, s->report_key, sizeof s->report_key) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof s->report_key)
		return cm_fail(e, -EIO, "sim: %s must hold 32 bytes", path);
	return 0;
}

static int sim_open(struct ca_backend *b, struct cm_err *e)
{
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return cm_fail(e, -ENOMEM, "out of memory");
	int rc = 0, lock = -1;
	char path[300];
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", state_dir()) >= sizeof(s->dir)) {
		rc = cm_fail(e, -ENAMETOOLONG, "sim: COCOON_SIM_DIR too long");
		goto out;
	}
	if ((rc = mkdirs(s->dir, e)) || (rc = path_of(s, "lock", path, sizeof(path), e)))
		goto out;
	lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX)) {
		rc = cm_fail(e, -errno, "sim: cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	struct cm_err ignore = {0};
	s->ca = ca_simca_load(s->dir, &ignore);
	if (!s->ca || !ca_fresh(s, s->ca)) {
		ca_simca_free(s->ca);
		struct ca_simca_params p;
		ca_simca_params_default(&p, (int64_t)time(NULL));
		s->ca = ca_simca_new(&p, e);
		if (!s->ca || (rc = ca_simca_save(s->ca, s->dir, e)) || (rc = write_policy(s, e))) {
			rc = rc ? rc : (e ? e->code : -EIO);
			goto out;
		}
	}
	if (!(rc = init_registers(s, e)))
		rc = load_report_key(s, e);
out:
	if (lock >= 0)
		close(lock);
	if (rc) {
		ca_simca_free(s->ca);
		free(s);
		return rc;
	}
	b->priv = s;
	return 0;
}

/* Read (and, with digest, extend) the register file under a lock. */
static int regs_io(struct sim *s, int idx, const uint8_t *digest, uint8_t regs[REG_FILE_LEN], struct cm_err *e)
{
	char path[300];
	if (path_of(s, "registers", path, sizeof(path), e))
		return e->code;
	int fd = open(path, digest ? O_RDWR | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "sim: cannot open %s: %s", path, strerror(errno));
	int rc = 0;
	if (flock(fd, digest ? LOCK_EX : LOCK_SH)) {
		rc = cm_fail(e, -errno, "sim: cannot lock %s: %s", path, strerror(errno));
	} else if (pread(fd, regs, REG_FILE_LEN, 0) != REG_FILE_LEN) {
		rc = cm_fail(e, -EIO, "sim: %s is truncated", path);
	} else if (digest) {
		uint8_t *r = regs + (size_t)(4 + idx) * 48;
		if (cm_rtmr_extend(r, digest) || pwrite(fd, r, 48, (off_t)(4 + idx) * 48) != 48 || fsync(fd))
			rc = cm_fail(e, -EIO, "sim: cannot extend RTMR%d in %s", idx, path);
	}
	close(fd);
	return rc;
}

static int sim_extend(struct ca_backend *b, int rtmr, const uint8_t digest[48], struct cm_err *e)
{
	uint8_t regs[REG_FILE_LEN];
	if (rtmr < 0 || rtmr >= CA_RTMR_COUNT)
		return cm_fail(e, -EINVAL, "sim: no RTMR%d", rtmr);
	return regs_io(b->priv, rtmr, digest, regs, e);
}

static int sim_read(struct ca_backend *b, int rtmr, uint8_t out[48], struct cm_err *e)
{
	uint8_t regs[REG_FILE_LEN];
	if (rtmr < 0 || rtmr >= CA_RTMR_COUNT)
		return cm_fail(e, -EINVAL, "sim: no RTMR%d", rtmr);
	int rc = regs_io(b->priv, rtmr, NULL, regs, e);
	if (!rc)
		memcpy(out, regs + (size_t)(4 + rtmr) * 48, 48);
	return rc;
}

/* The TD as it stands: default TD values with the register file and report_data. */
static int current_td(struct sim *s, const uint8_t report_data[CA_REPORT_DATA_LEN], struct ca_simca_td *td,
		      struct cm_err *e)
{
	uint8_t regs[REG_FILE_LEN];
	int rc = regs_io(s, 0, NULL, regs, e);
	if (rc)
		return rc;
	ca_simca_td_default(td);
	memcpy(td->mr_td, regs, 48);
	memcpy(td->mr_config_id, regs + 48, 48);
	memcpy(td->mr_owner, regs + 96, 48);
	memcpy(td->mr_owner_config, regs + 144, 48);
	memcpy(td->rtmr, regs + 192, 4 * 48);
	memcpy(td->report_data, report_data, CA_REPORT_DATA_LEN);
	return 0;
}

static int sim_quote(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN], uint8_t **quote,
		     size_t *len, struct cm_err *e)
{
	struct sim *s = b->priv;
	struct ca_simca_td td;
	int rc = current_td(s, report_data, &td, e);
	return rc ? rc : ca_simca_quote(s->ca, &td, quote, len, e);
}

/* TDREPORT (specs/attestation.md §1.8; sgx_report2_t) over the current registers:
 * REPORTMACSTRUCT (256) | TEE_TCB_INFO (239) | reserved (17) | TDINFO (512). The
 * REPORTMACSTRUCT hashes are real (SHA-384 of the 239-byte TEE_TCB_INFO and of TDINFO);
 * the MAC (bytes 224..256) is HMAC-SHA-256(report_key, REPORTMACSTRUCT[0..224)), the sim's
 * stand-in for the CPU-keyed MAC (checked by the test seal server, tests/seal/). */
static int sim_tdreport(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN],
			uint8_t report[CA_TDREPORT_LEN], struct cm_err *e)
{
	struct ca_simca_td td;
	int rc = current_td(b->priv, report_data, &td, e);
	if (rc)
		return rc;
	memset(report, 0, CA_TDREPORT_LEN);
	uint8_t *mac = report, *tcb = report + 256, *info = report + 512;
	mac[0] = 0x81; /* type TDX, subtype 0, version 0 (TDX 1.0) */
	memcpy(mac + 16, td.tee_tcb_svn, 16); /* cpusvn */
	memcpy(mac + 128, td.report_data, CA_REPORT_DATA_LEN);
	memset(tcb, 0xff, 8);                 /* valid */
	memcpy(tcb + 8, td.tee_tcb_svn, 16);
	memcpy(tcb + 24, td.mr_seam, 48);
	memcpy(info + 0, td.td_attributes, 8);
	memcpy(info + 8, td.xfam, 8);
	memcpy(info + 16, td.mr_td, 48);
	memcpy(info + 64, td.mr_config_id, 48);
	memcpy(info + 112, td.mr_owner, 48);
	memcpy(info + 160, td.mr_owner_config, 48);
	memcpy(info + 208, td.rtmr, 4 * 48);
	struct sim *s = b->priv;
	unsigned maclen = 0;
	if (cm_sha384(tcb, 239, mac + 32) || cm_sha384(info, 512, mac + 80) ||
	    !HMAC(EVP_sha256(), s->report_key, sizeof s->report_key, mac, 224, mac + 224, &maclen) || maclen != 32)
		return cm_fail(e, -EIO, "sim: hashing the TDREPORT failed");
	return 0;
}

static void sim_close(struct ca_backend *b)
{
	struct sim *s = b->priv;
	if (s) {
		ca_simca_free(s->ca);
		OPENSSL_cleanse(s->report_key, sizeof s->report_key);
		free(s);
	}
	b->priv = NULL;
}

const struct ca_ops ca_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.extend = sim_extend,
	.read = sim_read,
	.quote = sim_quote,
	.tdreport = sim_tdreport,
	.close = sim_close,
};

/* Helpers shared by the measure/gpu unit tests (test_measure_gpu*.c). */
#ifndef COCOON_TEST_GPU_H
#define COCOON_TEST_GPU_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/json.h"
#include "measure/gpu/gpu.h"
#include "measure/gpu/gpu_impl.h"
#include "tests/unit/testutil.h"

/* A hex-text report fixture (NVIDIA's samples) as bytes. */
static inline uint8_t *gpu_report_read(const char *rel, size_t *len)
{
	size_t n;
	char *txt = (char *)fixture_read(rel, &n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \r\n\t", txt[i]))
			txt[k++] = txt[i];
	txt[k] = 0;
	uint8_t *b = hex_to_bytes(txt, len);
	free(txt);
	return b;
}

/* cm_gpu_policy_parse of JSON text (which must be JSON). */
static inline int gpu_policy_try(const char *json, struct cm_gpu_policy **p, struct cm_err *e)
{
	struct cm_jv root;
	*p = NULL;
	assert_int_equal(cm_json_read(json, strlen(json), 1 << 16, "policy", &root, e), 0);
	int rc = cm_gpu_policy_parse(&root, p, e);
	cm_json_release(&root);
	return rc;
}

/* A GPU policy from JSON text (fails the test when it does not parse). */
static inline struct cm_gpu_policy *gpu_policy_json(const char *json)
{
	struct cm_err e = {0};
	struct cm_gpu_policy *p;
	int rc = gpu_policy_try(json, &p, &e);
	if (rc)
		print_error("policy: %s\n", e.msg);
	assert_int_equal(rc, 0);
	return p;
}

/* The one PEM certificate of dir/name (fails the test when there is none). */
static inline X509 *gpu_pem_load(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	size_t len;
	uint8_t *pem;
	assert_int_equal(cm_read_file(path, 1 << 20, &pem, &len, NULL), 0);
	X509 *x = cm_gpu_pem_cert((const char *)pem);
	free(pem);
	assert_non_null(x);
	return x;
}

/* Remove a test_tmpdir() directory and free its name. */
static inline void gpu_tmpdir_remove(char *d)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

#endif

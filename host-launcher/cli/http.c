/* The one HTTP client of cocoon-launch (libcurl): GET with a size bound, a timeout, at
 * most 3 redirects (http/https only) and one response header captured. */
#include "host-launcher/cli/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct sink {
	uint8_t *buf;
	size_t len, max;
	bool too_big;
	const char *hname;
	char *hval;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = sz * n;
	if (s->len + add > s->max) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	uint8_t *nb = realloc(s->buf, s->len + add + 1);
	if (!nb)
		return 0;
	memcpy(nb + s->len, p, add);
	s->buf = nb;
	s->len += add;
	s->buf[s->len] = 0;
	return add;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = sz * n, hl = s->hname ? strlen(s->hname) : 0;
	if (len >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response (after a redirect) */
		free(s->hval);
		s->hval = NULL;
	} else if (hl && len > hl && p[hl] == ':' && !strncasecmp(p, s->hname, hl)) {
		size_t a = hl + 1, b = len;
		while (a < b && (p[a] == ' ' || p[a] == '\t'))
			a++;
		while (b > a && (p[b - 1] == '\r' || p[b - 1] == '\n' || p[b - 1] == ' '))
			b--;
		free(s->hval);
		s->hval = strndup(p + a, b - a);
	}
	return len;
}

int cli_http_get(const char *url, size_t max, unsigned timeout_s, const char *header, uint8_t **body, size_t *len,
		 char **hval, struct cm_err *e)
{
	static bool inited;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return cm_fail(e, -EIO, "libcurl initialisation failed");
		inited = true;
	}
	*body = NULL;
	*len = 0;
	if (hval)
		*hval = NULL;
	CURL *c = curl_easy_init();
	if (!c)
		return cm_fail(e, -ENOMEM, "out of memory");
	struct sink s = {.max = max, .hname = header};
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cocoon-launch");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode cr = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	int r = 0;
	if (s.too_big)
		r = cm_fail(e, -EFBIG, "GET %s: response larger than %zu bytes", url, max);
	else if (cr != CURLE_OK)
		r = cm_fail(e, -EIO, "GET %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cr));
	else if (status != 200)
		r = cm_fail(e, -EIO, "GET %s: HTTP status %ld", url, status);
	if (r) {
		free(s.buf);
		free(s.hval);
		return r;
	}
	*body = s.buf ? s.buf : calloc(1, 1);
	*len = s.len;
	if (hval)
		*hval = s.hval;
	else
		free(s.hval);
	return *body ? 0 : cm_fail(e, -ENOMEM, "out of memory");
}

/* cocoon-ratls's log: one logfmt line per event on stderr. */
#ifndef COCOON_RATLS_LOG_H
#define COCOON_RATLS_LOG_H

/* Structured log line (logfmt) to stderr: ts=... level=... event=... then fmt. */
void cr_log(const char *level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

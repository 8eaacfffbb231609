/* Inside the QEMU argv builders (argv.c, argv_default.c, argv_cocoon.c), not for their
 * callers: push one formatted word onto `out`, or jump to the builder's `nomem` label. */
#ifndef COCOON_LAUNCH_ARGV_BUILD_H
#define COCOON_LAUNCH_ARGV_BUILD_H

#include "host-launcher/argv.h"

#define PUSH(...)                                                   \
	do {                                                        \
		if (cl_argv_push(out, __VA_ARGS__) < 0)             \
			goto nomem;                                 \
	} while (0)

#endif

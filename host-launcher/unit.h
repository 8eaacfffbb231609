/* systemd units: one template per node type (cocoon-worker@.service,
 * cocoon-proxy@.service) and one drop-in per instance naming its config file. */
#ifndef COCOON_LAUNCH_UNIT_H
#define COCOON_LAUNCH_UNIT_H

#include <stddef.h>

#include "host-launcher/config.h"
#include "measure/core/util.h"

/* Render the template unit text and the per-instance drop-in (both malloc'ed).
 * config_path must be absolute; bin is the installed cocoon-launch path. */
int cl_unit_render(const struct cl_config *c, const char *config_path, const char *bin,
		   char **template_text, char **dropin_text, struct cm_err *e);

/* Write them under dir: dir/cocoon-<type>@.service and
 * dir/cocoon-<type>@<instance>.service.d/10-cocoon-launch.conf. The template is
 * rewritten only when its text differs. Paths written are printed to stdout. */
int cl_unit_write(const struct cl_config *c, const char *config_path, const char *bin,
		  const char *dir, struct cm_err *e);

#endif

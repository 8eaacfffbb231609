/* libton internals shared by its files (not part of the public header). */
#ifndef COCOON_TON_INTERNAL_H
#define COCOON_TON_INTERNAL_H

#include "ton/ton.h"

/* A zeroed cell in the arena (NULL when out of memory). */
struct ton_cell *ton_cell_alloc(struct ton_arena *a);
/* Compute depth and hash of a cell whose bits, data and (finished) refs are set. */
int ton_cell_finish(struct ton_cell *c, struct cm_err *e);

#endif

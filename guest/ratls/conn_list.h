/* The lists of cocoon-ratls connections (conn.h): intrusive doubly linked lists through a
 * struct conn_link inside struct conn, one per list a connection can be on (the proxy's
 * open connections, a reverse listener's connections still in the PoW). */
#ifndef COCOON_RATLS_CONN_LIST_H
#define COCOON_RATLS_CONN_LIST_H

#include <stddef.h>

struct conn;

/* A connection's links in one doubly linked list. */
struct conn_link {
	struct conn *prev, *next;
};

/* Push c at the head of a list / unlink it (its links cleared); off: offsetof(struct conn,
 * all) or offsetof(struct conn, inpow). */
void cr_conn_list_push(struct conn **head, struct conn *c, size_t off);
void cr_conn_list_unlink(struct conn **head, struct conn *c, size_t off);

#endif

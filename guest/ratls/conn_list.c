/* The lists of connections (see conn_list.h). */
#include "guest/ratls/conn_list.h"

static struct conn_link *link_of(struct conn *c, size_t off)
{
	return (struct conn_link *)((char *)c + off);
}

void cr_conn_list_push(struct conn **head, struct conn *c, size_t off)
{
	struct conn_link *k = link_of(c, off);
	k->prev = NULL;
	k->next = *head;
	if (*head)
		link_of(*head, off)->prev = c;
	*head = c;
}

void cr_conn_list_unlink(struct conn **head, struct conn *c, size_t off)
{
	struct conn_link *k = link_of(c, off);
	if (k->prev)
		link_of(k->prev, off)->next = k->next;
	else
		*head = k->next;
	if (k->next)
		link_of(k->next, off)->prev = k->prev;
	k->prev = k->next = NULL;
}

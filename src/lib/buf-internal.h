/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the wire buffer, for buf*.c and their unit tests. */
#ifndef YKSSH_BUF_INTERNAL_H
#define YKSSH_BUF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/buf.h"

struct ykssh_buf {
	uint8_t		*d;		/* owned storage (NULL for a view) */
	const uint8_t	*cd;		/* viewed bytes (read-only) */
	size_t		 off;		/* read position */
	size_t		 size;		/* end of data */
	size_t		 alloc;		/* bytes of storage */
	size_t		 max_size;
	int		 readonly;
};

/* Start of storage (owned or viewed). */
static inline const uint8_t *
buf_data(const struct ykssh_buf *buf)
{
	return buf->readonly ? buf->cd : buf->d;
}

#endif /* YKSSH_BUF_INTERNAL_H */

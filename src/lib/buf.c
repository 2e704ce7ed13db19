/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wire buffer: storage, growth and views.  The typed getters and putters
 * are in buf-getput.c, base64/hex in buf-misc.c.
 */
#include <stdlib.h>
#include <string.h>

#include "buf-internal.h"
#include "ykssh/secret.h"

#define BUF_ALLOC_MIN	256

struct ykssh_buf *
ykssh_buf_new(void)
{
	struct ykssh_buf *buf;

	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return NULL;
	buf->max_size = YKSSH_BUF_SIZE_MAX;
	return buf;
}

struct ykssh_buf *
ykssh_buf_from(const void *p, size_t len)
{
	struct ykssh_buf *buf;

	if ((p == NULL && len != 0) || len > YKSSH_BUF_SIZE_MAX)
		return NULL;
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return NULL;
	buf->cd = p;
	buf->size = len;
	buf->alloc = len;
	buf->max_size = len;
	buf->readonly = 1;
	return buf;
}

int
ykssh_buf_froms(struct ykssh_buf *buf, struct ykssh_buf **bufp)
{
	const uint8_t *p;
	size_t len;
	struct ykssh_buf *view;
	int r;

	if (bufp != NULL)
		*bufp = NULL;
	if ((r = ykssh_buf_peek_string_direct(buf, &p, &len)) != 0)
		return r;
	if ((view = ykssh_buf_from(p, len)) == NULL)
		return YKSSH_ERR_NOMEM;
	if ((r = ykssh_buf_consume(buf, 4 + len)) != 0) {
		ykssh_buf_free(view);
		return r;
	}
	if (bufp != NULL)
		*bufp = view;	/* transferred */
	else
		ykssh_buf_free(view);
	return 0;
}

void
ykssh_buf_free(struct ykssh_buf *buf)
{
	if (buf == NULL)
		return;
	if (!buf->readonly)
		ykssh_freezero(buf->d, buf->alloc);
	free(buf);
}

void
ykssh_buf_reset(struct ykssh_buf *buf)
{
	if (buf->readonly) {
		buf->off = buf->size;
		return;
	}
	if (buf->d != NULL)
		explicit_bzero(buf->d, buf->alloc);
	buf->off = 0;
	buf->size = 0;
}

size_t
ykssh_buf_len(const struct ykssh_buf *buf)
{
	return buf->size - buf->off;
}

size_t
ykssh_buf_max_size(const struct ykssh_buf *buf)
{
	return buf->max_size;
}

size_t
ykssh_buf_avail(const struct ykssh_buf *buf)
{
	if (buf->readonly)
		return 0;
	return buf->max_size - ykssh_buf_len(buf);
}

int
ykssh_buf_set_max_size(struct ykssh_buf *buf, size_t max)
{
	if (buf->readonly)
		return YKSSH_ERR_BUFFER_READ_ONLY;
	if (max > YKSSH_BUF_SIZE_MAX)
		return YKSSH_ERR_INVALID_ARGUMENT;
	if (max < ykssh_buf_len(buf))
		return YKSSH_ERR_NO_BUFFER_SPACE;
	buf->max_size = max;
	return 0;
}

const uint8_t *
ykssh_buf_ptr(const struct ykssh_buf *buf)
{
	const uint8_t *d = buf_data(buf);

	return d != NULL ? d + buf->off : NULL;
}

uint8_t *
ykssh_buf_mutable_ptr(struct ykssh_buf *buf)
{
	if (buf->readonly || buf->d == NULL)
		return NULL;
	return buf->d + buf->off;
}

int
ykssh_buf_check_empty(const struct ykssh_buf *buf)
{
	return ykssh_buf_len(buf) == 0 ? 0 : YKSSH_ERR_TRAILING_DATA;
}

int
ykssh_buf_check_reserve(const struct ykssh_buf *buf, size_t len)
{
	if (buf->readonly)
		return YKSSH_ERR_BUFFER_READ_ONLY;
	if (len > ykssh_buf_avail(buf))
		return YKSSH_ERR_NO_BUFFER_SPACE;
	return 0;
}

/*
 * Makes room for len more bytes at the end: first by moving unread data to
 * the front (wiping what it leaves behind), then by growing into a new
 * block (wiping the old one: glibc has no recallocarray).
 */
static int
make_room(struct ykssh_buf *buf, size_t len)
{
	size_t need, nalloc, have = ykssh_buf_len(buf);
	uint8_t *nd;
	int r;

	if ((r = ykssh_buf_check_reserve(buf, len)) != 0)
		return r;
	if (buf->alloc - buf->size >= len)
		return 0;
	need = have + len;
	if (buf->off > 0 && buf->alloc >= need) {
		memmove(buf->d, buf->d + buf->off, have);
		explicit_bzero(buf->d + have, buf->alloc - have);
		buf->off = 0;
		buf->size = have;
		return 0;
	}
	nalloc = buf->alloc > BUF_ALLOC_MIN ? buf->alloc : BUF_ALLOC_MIN;
	while (nalloc < need)
		nalloc *= 2;
	if (nalloc > buf->max_size)
		nalloc = buf->max_size;
	if ((nd = calloc(1, nalloc)) == NULL)
		return YKSSH_ERR_NOMEM;
	if (have > 0)
		memcpy(nd, buf->d + buf->off, have);
	ykssh_freezero(buf->d, buf->alloc);
	buf->d = nd;
	buf->alloc = nalloc;
	buf->off = 0;
	buf->size = have;
	return 0;
}

int
ykssh_buf_reserve(struct ykssh_buf *buf, size_t len, uint8_t **dpp)
{
	int r;

	if (dpp != NULL)
		*dpp = NULL;
	if ((r = make_room(buf, len)) != 0)
		return r;
	/* Bytes past size are always zero: growth and wiping ensure it. */
	if (dpp != NULL)
		*dpp = buf->d + buf->size;
	buf->size += len;
	return 0;
}

int
ykssh_buf_consume(struct ykssh_buf *buf, size_t len)
{
	if (len > ykssh_buf_len(buf))
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	/*
	 * Consumed bytes stay in place (a view made by ykssh_buf_froms may
	 * still point at them); make_room() reclaims the space and wipes it.
	 */
	buf->off += len;
	return 0;
}

int
ykssh_buf_consume_end(struct ykssh_buf *buf, size_t len)
{
	if (len > ykssh_buf_len(buf))
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	buf->size -= len;
	if (!buf->readonly)
		explicit_bzero(buf->d + buf->size, len);
	return 0;
}

int
ykssh_buf_cmp(const struct ykssh_buf *buf, size_t offset, const void *p,
    size_t len)
{
	if (offset > ykssh_buf_len(buf) || len > ykssh_buf_len(buf) - offset)
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	if (len > 0 && memcmp(ykssh_buf_ptr(buf) + offset, p, len) != 0)
		return YKSSH_ERR_INVALID_FORMAT;
	return 0;
}

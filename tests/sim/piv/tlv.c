/* SPDX-License-Identifier: BSD-2-Clause */
/* BER-TLV reading and response building for the pivsim core. */

#include <string.h>

#include "pivsim-internal.h"

void
ob_init(struct ob *b, uint8_t *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->err = 0;
}

void
ob_put(struct ob *b, const void *p, size_t n)
{
	if (b->err || n > b->cap - b->len) {
		b->err = 1;
		return;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
ob_u8(struct ob *b, uint8_t v)
{
	ob_put(b, &v, 1);
}

/* Tag (one or two bytes) and BER length. */
void
ob_hdr(struct ob *b, unsigned int tag, size_t len)
{
	if (tag > 0xff)
		ob_u8(b, (uint8_t)(tag >> 8));
	ob_u8(b, (uint8_t)tag);
	if (len < 0x80)
		ob_u8(b, (uint8_t)len);
	else if (len < 0x100) {
		ob_u8(b, 0x81);
		ob_u8(b, (uint8_t)len);
	} else if (len < 0x10000) {
		ob_u8(b, 0x82);
		ob_u8(b, (uint8_t)(len >> 8));
		ob_u8(b, (uint8_t)len);
	} else
		b->err = 1;
}

void
ob_tlv(struct ob *b, unsigned int tag, const void *p, size_t n)
{
	ob_hdr(b, tag, n);
	ob_put(b, p, n);
}

/*
 * Read one TLV with a one-byte tag from *pp (*lenp bytes) and advance.
 * Returns 0 on success, -1 on truncated or malformed input (nothing
 * consumed).
 */
int
tlv_read(const uint8_t **pp, size_t *lenp, uint8_t *tag, const uint8_t **val,
    size_t *vlen)
{
	const uint8_t	*p = *pp;
	size_t		 n = *lenp, hl, l;

	if (n < 2)
		return (-1);
	if (p[1] < 0x80) {
		l = p[1];
		hl = 2;
	} else if (p[1] == 0x81 && n >= 3) {
		l = p[2];
		hl = 3;
	} else if (p[1] == 0x82 && n >= 4) {
		l = ((size_t)p[2] << 8) | p[3];
		hl = 4;
	} else
		return (-1);
	if (l > n - hl)
		return (-1);
	*tag = p[0];
	*val = p + hl;
	*vlen = l;
	*pp = p + hl + l;
	*lenp = n - hl - l;
	return (0);
}

/* First TLV with the given tag in a flat list; -1 if absent or malformed. */
int
tlv_find(const uint8_t *p, size_t n, uint8_t want, const uint8_t **val,
    size_t *vlen)
{
	uint8_t	tag;

	while (n > 0) {
		if (tlv_read(&p, &n, &tag, val, vlen) != 0)
			return (-1);
		if (tag == want)
			return (0);
	}
	return (-1);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Wire buffer: typed getters and putters (integers, strings, mpints). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "buf-internal.h"
#include "ykssh/secret.h"

int
ykssh_buf_get(struct ykssh_buf *buf, void *v, size_t len)
{
	if (len > ykssh_buf_len(buf))
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	if (v != NULL && len > 0)
		memcpy(v, ykssh_buf_ptr(buf), len);
	return ykssh_buf_consume(buf, len);
}

int
ykssh_buf_put(struct ykssh_buf *buf, const void *v, size_t len)
{
	uint8_t *p;
	int r;

	if (len == 0)
		return ykssh_buf_check_reserve(buf, 0);
	if ((r = ykssh_buf_reserve(buf, len, &p)) != 0)
		return r;
	memcpy(p, v, len);
	return 0;
}

int
ykssh_buf_putb(struct ykssh_buf *dst, const struct ykssh_buf *src)
{
	return ykssh_buf_put(dst, ykssh_buf_ptr(src), ykssh_buf_len(src));
}

int
ykssh_buf_putf(struct ykssh_buf *buf, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n, r;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return YKSSH_ERR_NOMEM;
	r = ykssh_buf_put(buf, s, (size_t)n);
	ykssh_freezero(s, (size_t)n);
	return r;
}

/* Big-endian loads and stores. */
static uint64_t
load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
store_be(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static int
get_uint(struct ykssh_buf *buf, size_t n, uint64_t *valp)
{
	if (n > ykssh_buf_len(buf))
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	*valp = load_be(ykssh_buf_ptr(buf), n);
	return ykssh_buf_consume(buf, n);
}

static int
put_uint(struct ykssh_buf *buf, size_t n, uint64_t val)
{
	uint8_t *p;
	int r;

	if ((r = ykssh_buf_reserve(buf, n, &p)) != 0)
		return r;
	store_be(p, val, n);
	return 0;
}

int
ykssh_buf_get_u64(struct ykssh_buf *buf, uint64_t *valp)
{
	uint64_t v;
	int r;

	if ((r = get_uint(buf, 8, &v)) == 0 && valp != NULL)
		*valp = v;
	return r;
}

int
ykssh_buf_get_u32(struct ykssh_buf *buf, uint32_t *valp)
{
	uint64_t v;
	int r;

	if ((r = get_uint(buf, 4, &v)) == 0 && valp != NULL)
		*valp = (uint32_t)v;
	return r;
}

int
ykssh_buf_get_u16(struct ykssh_buf *buf, uint16_t *valp)
{
	uint64_t v;
	int r;

	if ((r = get_uint(buf, 2, &v)) == 0 && valp != NULL)
		*valp = (uint16_t)v;
	return r;
}

int
ykssh_buf_get_u8(struct ykssh_buf *buf, uint8_t *valp)
{
	uint64_t v;
	int r;

	if ((r = get_uint(buf, 1, &v)) == 0 && valp != NULL)
		*valp = (uint8_t)v;
	return r;
}

int
ykssh_buf_put_u64(struct ykssh_buf *buf, uint64_t val)
{
	return put_uint(buf, 8, val);
}

int
ykssh_buf_put_u32(struct ykssh_buf *buf, uint32_t val)
{
	return put_uint(buf, 4, val);
}

int
ykssh_buf_put_u16(struct ykssh_buf *buf, uint16_t val)
{
	return put_uint(buf, 2, val);
}

int
ykssh_buf_put_u8(struct ykssh_buf *buf, uint8_t val)
{
	return put_uint(buf, 1, val);
}

static int
peek(const struct ykssh_buf *buf, size_t offset, size_t n, uint64_t *valp)
{
	size_t have = ykssh_buf_len(buf);

	if (offset > have || n > have - offset)
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	*valp = load_be(ykssh_buf_ptr(buf) + offset, n);
	return 0;
}

int
ykssh_buf_peek_u32(const struct ykssh_buf *buf, size_t offset,
    uint32_t *valp)
{
	uint64_t v;
	int r;

	if ((r = peek(buf, offset, 4, &v)) == 0 && valp != NULL)
		*valp = (uint32_t)v;
	return r;
}

int
ykssh_buf_peek_u8(const struct ykssh_buf *buf, size_t offset, uint8_t *valp)
{
	uint64_t v;
	int r;

	if ((r = peek(buf, offset, 1, &v)) == 0 && valp != NULL)
		*valp = (uint8_t)v;
	return r;
}

int
ykssh_buf_peek_string_direct(const struct ykssh_buf *buf,
    const uint8_t **valp, size_t *lenp)
{
	uint32_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = ykssh_buf_peek_u32(buf, 0, &len)) != 0)
		return r;
	if (len > YKSSH_BUF_SIZE_MAX - 4)
		return YKSSH_ERR_STRING_TOO_LARGE;
	if (ykssh_buf_len(buf) - 4 < len)
		return YKSSH_ERR_MESSAGE_INCOMPLETE;
	if (valp != NULL)
		*valp = ykssh_buf_ptr(buf) + 4;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
ykssh_buf_get_string_direct(struct ykssh_buf *buf, const uint8_t **valp,
    size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = ykssh_buf_peek_string_direct(buf, &p, &len)) != 0)
		return r;
	if ((r = ykssh_buf_consume(buf, 4 + len)) != 0)
		return r;
	if (valp != NULL)
		*valp = p;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
ykssh_buf_get_string(struct ykssh_buf *buf, uint8_t **valp, size_t *lenp)
{
	const uint8_t *p;
	uint8_t *copy;
	size_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = ykssh_buf_peek_string_direct(buf, &p, &len)) != 0)
		return r;
	if (valp != NULL) {
		if ((copy = malloc(len + 1)) == NULL)
			return YKSSH_ERR_NOMEM;
		if (len > 0)
			memcpy(copy, p, len);
		copy[len] = '\0';
		if ((r = ykssh_buf_consume(buf, 4 + len)) != 0) {
			ykssh_freezero(copy, len + 1);
			return r;
		}
		*valp = copy;	/* transferred */
	} else if ((r = ykssh_buf_consume(buf, 4 + len)) != 0)
		return r;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
ykssh_buf_get_cstring(struct ykssh_buf *buf, char **valp, size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = ykssh_buf_peek_string_direct(buf, &p, &len)) != 0)
		return r;
	/* Validate before consuming anything. */
	if (len > 0 && memchr(p, '\0', len) != NULL)
		return YKSSH_ERR_INVALID_FORMAT;
	return ykssh_buf_get_string(buf, (uint8_t **)valp, lenp);
}

int
ykssh_buf_get_stringb(struct ykssh_buf *buf, struct ykssh_buf *dst)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = ykssh_buf_peek_string_direct(buf, &p, &len)) != 0)
		return r;
	if ((r = ykssh_buf_put(dst, p, len)) != 0)
		return r;
	return ykssh_buf_consume(buf, 4 + len);
}

int
ykssh_buf_put_string(struct ykssh_buf *buf, const void *v, size_t len)
{
	uint8_t *p;
	int r;

	if (len > YKSSH_BUF_SIZE_MAX - 4)
		return YKSSH_ERR_NO_BUFFER_SPACE;
	if ((r = ykssh_buf_reserve(buf, 4 + len, &p)) != 0)
		return r;
	store_be(p, len, 4);
	if (len > 0)
		memcpy(p + 4, v, len);
	return 0;
}

int
ykssh_buf_put_cstring(struct ykssh_buf *buf, const char *v)
{
	return ykssh_buf_put_string(buf, v, v != NULL ? strlen(v) : 0);
}

int
ykssh_buf_put_stringb(struct ykssh_buf *buf, const struct ykssh_buf *src)
{
	return ykssh_buf_put_string(buf, ykssh_buf_ptr(src),
	    ykssh_buf_len(src));
}

int
ykssh_buf_get_mpint_direct(struct ykssh_buf *buf, const uint8_t **valp,
    size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = ykssh_buf_peek_string_direct(buf, &p, &len)) != 0)
		return r;
	if (len > 0 && (p[0] & 0x80) != 0)
		return YKSSH_ERR_BIGNUM_IS_NEGATIVE;
	/* A leading zero is allowed only to keep the sign bit clear. */
	if (len > 0 && p[0] == 0 && (len == 1 || (p[1] & 0x80) == 0))
		return YKSSH_ERR_INVALID_FORMAT;
	if (len > YKSSH_BUF_MAX_BIGNUM + 1 ||
	    (len == YKSSH_BUF_MAX_BIGNUM + 1 && p[0] != 0))
		return YKSSH_ERR_BIGNUM_TOO_LARGE;
	if ((r = ykssh_buf_consume(buf, 4 + len)) != 0)
		return r;
	if (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (valp != NULL)
		*valp = p;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
ykssh_buf_put_mpint(struct ykssh_buf *buf, const uint8_t *v, size_t len)
{
	uint8_t *p;
	size_t pad;
	int r;

	while (len > 0 && v[0] == 0) {
		v++;
		len--;
	}
	if (len > YKSSH_BUF_MAX_BIGNUM)
		return YKSSH_ERR_BIGNUM_TOO_LARGE;
	pad = (len > 0 && (v[0] & 0x80) != 0) ? 1 : 0;
	if ((r = ykssh_buf_reserve(buf, 4 + pad + len, &p)) != 0)
		return r;
	store_be(p, len + pad, 4);
	/* reserved bytes are zero, so the pad byte is already in place */
	if (len > 0)
		memcpy(p + 4 + pad, v, len);
	return 0;
}

int
ykssh_buf_get_bignum(struct ykssh_buf *buf, BIGNUM **valp)
{
	const uint8_t *p;
	size_t len, off = buf->off;
	BIGNUM *bn;
	int r;

	if (valp != NULL)
		*valp = NULL;
	if ((r = ykssh_buf_get_mpint_direct(buf, &p, &len)) != 0)
		return r;
	if (valp == NULL)
		return 0;
	if ((bn = BN_bin2bn(p, (int)len, NULL)) == NULL) {
		/* consuming never moves data, so the bytes are still there */
		buf->off = off;
		return YKSSH_ERR_NOMEM;
	}
	*valp = bn;	/* transferred */
	return 0;
}

int
ykssh_buf_put_bignum(struct ykssh_buf *buf, const BIGNUM *v)
{
	uint8_t tmp[YKSSH_BUF_MAX_BIGNUM];
	int n, r;

	if (BN_is_negative(v))
		return YKSSH_ERR_BIGNUM_IS_NEGATIVE;
	n = BN_num_bytes(v);
	if (n < 0 || (size_t)n > sizeof(tmp))
		return YKSSH_ERR_BIGNUM_TOO_LARGE;
	if (BN_bn2bin(v, tmp) != n)
		return YKSSH_ERR_CRYPTO;
	r = ykssh_buf_put_mpint(buf, tmp, (size_t)n);
	explicit_bzero(tmp, (size_t)n);
	return r;
}

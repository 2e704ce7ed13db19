/* SPDX-License-Identifier: BSD-2-Clause */
/* Wire buffer: base64 (through OpenSSL), hex and string copies. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf-internal.h"
#include "ykssh/secret.h"

/* Encode in chunks that are a multiple of 3 input bytes. */
#define B64_CHUNK_IN	(3 * 256)
#define B64_CHUNK_OUT	(4 * 256)

int
ykssh_buf_dtob64(const struct ykssh_buf *src, struct ykssh_buf *b64,
    size_t wrap)
{
	const uint8_t *p = ykssh_buf_ptr(src);
	size_t left = ykssh_buf_len(src), n, col = 0, i, total;
	unsigned char out[B64_CHUNK_OUT + 1];
	int r = 0, olen;

	/* Check room first so a failure appends nothing. */
	total = (left + 2) / 3 * 4;
	if (wrap > 0 && total > 0)
		total += (total + wrap - 1) / wrap;
	if ((r = ykssh_buf_check_reserve(b64, total)) != 0)
		return r;
	while (left > 0) {
		n = left < B64_CHUNK_IN ? left : B64_CHUNK_IN;
		olen = EVP_EncodeBlock(out, p, (int)n);
		if (olen < 0) {
			r = YKSSH_ERR_CRYPTO;
			goto out;
		}
		for (i = 0; i < (size_t)olen; i++) {
			if ((r = ykssh_buf_put_u8(b64, out[i])) != 0)
				goto out;
			if (wrap > 0 && ++col == wrap) {
				if ((r = ykssh_buf_put_u8(b64, '\n')) != 0)
					goto out;
				col = 0;
			}
		}
		p += n;
		left -= n;
	}
	if (wrap > 0 && col > 0)
		r = ykssh_buf_put_u8(b64, '\n');
out:
	explicit_bzero(out, sizeof(out));
	return r;
}

static int
is_b64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static unsigned
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0' + 52);
	return c == '+' ? 62 : 63;
}

int
ykssh_buf_b64tod(struct ykssh_buf *buf, const char *b64)
{
	char *clean = NULL;
	uint8_t *dec = NULL;
	size_t i, n = 0, len, pad = 0, declen = 0;
	int r = YKSSH_ERR_INVALID_FORMAT, olen;

	len = strlen(b64);
	if ((clean = malloc(len + 1)) == NULL)
		return YKSSH_ERR_NOMEM;
	/*
	 * Strictness OpenSSL's decoder lacks: only the alphabet, padding
	 * only at the end (at most two), length a multiple of 4.
	 */
	for (i = 0; i < len; i++) {
		int c = (unsigned char)b64[i];

		if (is_space(c))
			continue;
		if (c == '=') {
			pad++;
		} else if (!is_b64(c) || pad > 0) {
			goto out;
		}
		clean[n++] = (char)c;
	}
	clean[n] = '\0';
	if (n == 0) {
		r = 0;
		goto out;
	}
	if (n % 4 != 0 || pad > 2)
		goto out;
	/* Unused low bits of the last symbol must be zero (canonical). */
	if (pad == 1 && (b64val(clean[n - 2]) & 0x03) != 0)
		goto out;
	if (pad == 2 && (b64val(clean[n - 3]) & 0x0f) != 0)
		goto out;
	if ((dec = malloc(n / 4 * 3)) == NULL) {
		r = YKSSH_ERR_NOMEM;
		goto out;
	}
	if ((olen = EVP_DecodeBlock(dec, (unsigned char *)clean, (int)n)) < 0)
		goto out;
	/* EVP_DecodeBlock counts padding as decoded zero bytes. */
	declen = (size_t)olen - pad;
	r = ykssh_buf_put(buf, dec, declen);
out:
	if (dec != NULL)
		ykssh_freezero(dec, n / 4 * 3);
	ykssh_freezero(clean, len + 1);
	return r;
}

char *
ykssh_buf_dup_string(const struct ykssh_buf *buf)
{
	size_t len = ykssh_buf_len(buf);
	const uint8_t *p = ykssh_buf_ptr(buf);
	char *s;

	if (len > 0 && memchr(p, '\0', len) != NULL)
		return NULL;
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

char *
ykssh_buf_dtohex(const struct ykssh_buf *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = ykssh_buf_len(buf), i;
	const uint8_t *p = ykssh_buf_ptr(buf);
	char *s;

	if ((s = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[i * 2] = hex[p[i] >> 4];
		s[i * 2 + 1] = hex[p[i] & 0x0f];
	}
	s[len * 2] = '\0';
	return s;
}

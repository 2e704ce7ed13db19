/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the wire buffer's parsers.  Input layout: up to 8 opcode bytes
 * (the count is the low 3 bits of the first byte, plus one), then the
 * bytes to parse.  Besides "no crash", every value that parses must
 * survive a round trip, and base64 must decode what it encoded and
 * re-encode exactly what it accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "ykssh/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

/* Results the harness does not need (gcc's warn_unused_result ignores a
 * cast to void). */
static void
ignore(int r)
{
	(void)r;
}

static void
round_trip_string(const uint8_t *p, size_t len)
{
	struct ykssh_buf *b = ykssh_buf_new();
	const uint8_t *q;
	size_t qlen;

	CHECK(b != NULL);
	CHECK(ykssh_buf_put_string(b, p, len) == 0);
	CHECK(ykssh_buf_get_string_direct(b, &q, &qlen) == 0);
	CHECK(qlen == len && (len == 0 || memcmp(p, q, len) == 0));
	CHECK(ykssh_buf_check_empty(b) == 0);
	ykssh_buf_free(b);
}

static void
round_trip_mpint(const uint8_t *p, size_t len)
{
	struct ykssh_buf *b = ykssh_buf_new();
	const uint8_t *q;
	size_t qlen;
	BIGNUM *bn = NULL;

	CHECK(b != NULL);
	CHECK(ykssh_buf_put_mpint(b, p, len) == 0);
	CHECK(ykssh_buf_get_mpint_direct(b, &q, &qlen) == 0);
	CHECK(qlen == len && (len == 0 || memcmp(p, q, len) == 0));
	CHECK(ykssh_buf_put_mpint(b, p, len) == 0);
	CHECK(ykssh_buf_get_bignum(b, &bn) == 0);
	CHECK(ykssh_buf_put_bignum(b, bn) == 0);
	CHECK(ykssh_buf_get_mpint_direct(b, &q, &qlen) == 0);
	CHECK(qlen == len && (len == 0 || memcmp(p, q, len) == 0));
	BN_free(bn);
	ykssh_buf_free(b);
}

static void
parse_ops(const uint8_t *ops, size_t nops, const uint8_t *body, size_t len)
{
	struct ykssh_buf *b = ykssh_buf_from(body, len), *sub = NULL;
	const uint8_t *p;
	size_t plen, i;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8, *s;
	char *cs;
	BIGNUM *bn;

	CHECK(b != NULL);
	for (i = 0; i < nops; i++) {
		switch (ops[i] % 11) {
		case 0:
			ignore(ykssh_buf_get_u8(b, &u8));
			break;
		case 1:
			ignore(ykssh_buf_get_u16(b, &u16));
			break;
		case 2:
			ignore(ykssh_buf_get_u32(b, &u32));
			break;
		case 3:
			ignore(ykssh_buf_get_u64(b, &u64));
			break;
		case 4:
			if (ykssh_buf_get_string_direct(b, &p, &plen) == 0)
				round_trip_string(p, plen);
			break;
		case 5:
			if (ykssh_buf_get_string(b, &s, &plen) == 0) {
				CHECK(s[plen] == '\0');
				free(s);
			}
			break;
		case 6:
			if (ykssh_buf_get_cstring(b, &cs, &plen) == 0) {
				CHECK(strlen(cs) == plen);
				free(cs);
			}
			break;
		case 7:
			if (ykssh_buf_get_mpint_direct(b, &p, &plen) == 0) {
				CHECK(plen == 0 || p[0] != 0);
				round_trip_mpint(p, plen);
			}
			break;
		case 8:
			bn = NULL;
			if (ykssh_buf_get_bignum(b, &bn) == 0)
				BN_free(bn);
			break;
		case 9:
			/* Descend into a nested string. */
			if (sub == NULL && ykssh_buf_froms(b, &sub) == 0) {
				ykssh_buf_free(b);
				b = sub;
			}
			sub = NULL;
			break;
		case 10:
			ignore(ykssh_buf_peek_u32(b, ops[i] >> 4, &u32));
			ignore(ykssh_buf_consume(b, ops[i] >> 5));
			break;
		}
	}
	ignore(ykssh_buf_check_empty(b));
	ykssh_buf_free(b);
}

static void
fuzz_base64(const uint8_t *body, size_t len, size_t wrap)
{
	struct ykssh_buf *d = ykssh_buf_new(), *e = ykssh_buf_new();
	struct ykssh_buf *d2 = ykssh_buf_new(), *e2 = ykssh_buf_new();
	char *text, *enc;
	size_t i, n = 0;

	CHECK(d != NULL && e != NULL && d2 != NULL && e2 != NULL);
	/* Encode then decode arbitrary bytes. */
	CHECK(ykssh_buf_put(d, body, len) == 0);
	CHECK(ykssh_buf_dtob64(d, e, wrap) == 0);
	CHECK((enc = ykssh_buf_dup_string(e)) != NULL);
	CHECK(ykssh_buf_b64tod(d2, enc) == 0);
	CHECK(ykssh_buf_len(d2) == len &&
	    (len == 0 || memcmp(ykssh_buf_ptr(d2), body, len) == 0));
	free(enc);

	/* Decode arbitrary text: what is accepted re-encodes canonically. */
	CHECK((text = malloc(len + 1)) != NULL);
	memcpy(text, body, len);
	text[len] = '\0';
	ykssh_buf_reset(d2);
	if (ykssh_buf_b64tod(d2, text) == 0) {
		CHECK(ykssh_buf_dtob64(d2, e2, 0) == 0);
		/* Compare with the input minus skipped whitespace. */
		for (i = 0; i < strlen(text); i++)
			if (strchr(" \t\r\n", text[i]) == NULL)
				text[n++] = text[i];
		text[n] = '\0';
		CHECK(ykssh_buf_len(e2) == n &&
		    (n == 0 || memcmp(ykssh_buf_ptr(e2), text, n) == 0));
	}
	free(text);
	ykssh_buf_free(d);
	ykssh_buf_free(e);
	ykssh_buf_free(d2);
	ykssh_buf_free(e2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nops;

	if (size < 1)
		return 0;
	nops = (size_t)(data[0] & 0x07) + 1;
	if (nops > size - 1)
		nops = size - 1;
	parse_ops(data + 1, nops, data + 1 + nops, size - 1 - nops);
	fuzz_base64(data + 1, size - 1, data[0] >> 3);
	return 0;
}

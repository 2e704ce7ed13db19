/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wire buffer tests: round trips for every type, every bounds failure, the
 * RFC 4251 section 5 and RFC 4648 section 10 vectors, and deterministic
 * mutation of a valid nested blob.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>

#include "buf-internal.h"
#include "ykssh/buf.h"
#include "ykssh/secret.h"

static struct ykssh_buf *
from_hex(const char *hex)
{
	struct ykssh_buf *b = ykssh_buf_new();
	unsigned v;

	assert_non_null(b);
	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		assert_int_equal(ykssh_buf_put_u8(b, (uint8_t)v), 0);
		hex += 2;
	}
	return b;
}

static void
assert_buf_hex(const struct ykssh_buf *b, const char *hex)
{
	struct ykssh_buf *want = from_hex(hex);

	assert_int_equal(ykssh_buf_len(b), ykssh_buf_len(want));
	if (ykssh_buf_len(b) > 0)
		assert_memory_equal(ykssh_buf_ptr(b), ykssh_buf_ptr(want),
		    ykssh_buf_len(b));
	ykssh_buf_free(want);
}

static void
test_integers_round_trip(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;

	(void)state;
	assert_int_equal(ykssh_buf_put_u8(b, 0xa5), 0);
	assert_int_equal(ykssh_buf_put_u16(b, 0xbeef), 0);
	/* RFC 4251 section 5: uint32 699921578 is 29 b7 f4 aa. */
	assert_int_equal(ykssh_buf_put_u32(b, 699921578), 0);
	assert_int_equal(ykssh_buf_put_u64(b, 0x0102030405060708ULL), 0);
	assert_buf_hex(b, "a5 beef 29b7f4aa 0102030405060708");
	assert_int_equal(ykssh_buf_peek_u8(b, 0, &u8), 0);
	assert_int_equal(u8, 0xa5);
	assert_int_equal(ykssh_buf_peek_u32(b, 3, &u32), 0);
	assert_int_equal(u32, 699921578);
	assert_int_equal(ykssh_buf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 0xa5);
	assert_int_equal(ykssh_buf_get_u16(b, &u16), 0);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(ykssh_buf_get_u32(b, &u32), 0);
	assert_int_equal(u32, 699921578);
	assert_int_equal(ykssh_buf_get_u64(b, &u64), 0);
	assert_true(u64 == 0x0102030405060708ULL);
	assert_int_equal(ykssh_buf_len(b), 0);
	assert_int_equal(ykssh_buf_check_empty(b), 0);
	ykssh_buf_free(b);
}

static void
test_integers_short(void **state)
{
	struct ykssh_buf *b = from_hex("01 02 03 04 05 06 07");
	uint64_t u64 = 42;
	uint32_t u32 = 42;
	uint16_t u16 = 42;
	uint8_t u8 = 42;

	(void)state;
	assert_int_equal(ykssh_buf_get_u64(b, &u64),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_true(u64 == 42);
	assert_int_equal(ykssh_buf_len(b), 7);	/* nothing consumed */
	assert_int_equal(ykssh_buf_peek_u32(b, 4, &u32),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_peek_u32(b, 8, &u32),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_peek_u8(b, 7, &u8),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_peek_u8(b, SIZE_MAX, &u8),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_get_u32(b, &u32), 0);
	assert_int_equal(ykssh_buf_get_u32(b, &u32),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_get_u16(b, &u16), 0);
	assert_int_equal(ykssh_buf_get_u16(b, &u16),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 7);
	assert_int_equal(ykssh_buf_get_u8(b, &u8),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(u8, 7);
	ykssh_buf_free(b);
}

static void
test_string_vectors(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	const uint8_t *p;
	uint8_t *s;
	char *cs;
	size_t len;

	(void)state;
	/* RFC 4251 section 5: "testing" is 00 00 00 07 t e s t i n g. */
	assert_int_equal(ykssh_buf_put_cstring(b, "testing"), 0);
	assert_buf_hex(b, "00000007 74657374696e67");
	assert_int_equal(ykssh_buf_put_string(b, NULL, 0), 0);
	assert_int_equal(ykssh_buf_put_string(b, "a\0b", 3), 0);

	assert_int_equal(ykssh_buf_peek_string_direct(b, &p, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(p, "testing", 7);
	assert_int_equal(ykssh_buf_get_cstring(b, &cs, &len), 0);
	assert_string_equal(cs, "testing");
	assert_int_equal(len, 7);
	free(cs);
	assert_int_equal(ykssh_buf_get_string(b, &s, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(s[0], 0);	/* always NUL-terminated */
	free(s);
	/* Embedded NUL: a cstring refuses it and consumes nothing. */
	assert_int_equal(ykssh_buf_get_cstring(b, &cs, &len),
	    YKSSH_ERR_INVALID_FORMAT);
	assert_null(cs);
	assert_int_equal(ykssh_buf_len(b), 7);
	assert_int_equal(ykssh_buf_get_string_direct(b, &p, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "a\0b", 3);
	assert_int_equal(ykssh_buf_check_empty(b), 0);
	ykssh_buf_free(b);
}

static void
test_string_bounds(void **state)
{
	struct ykssh_buf *b;
	const uint8_t *p = (const uint8_t *)"x";
	static uint8_t untouched[] = "untouched";
	uint8_t *s = untouched;
	size_t len = 99;

	(void)state;
	/* Length field itself truncated. */
	b = from_hex("00 00 00");
	assert_int_equal(ykssh_buf_get_string(b, &s, &len),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_null(s);
	assert_int_equal(len, 0);
	ykssh_buf_free(b);
	/* Data shorter than the length says. */
	b = from_hex("00 00 00 05 61 62 63 64");
	assert_int_equal(ykssh_buf_get_string_direct(b, &p, &len),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_null(p);
	assert_int_equal(ykssh_buf_len(b), 8);
	ykssh_buf_free(b);
	/* Length over the hard maximum: refused before looking further. */
	b = from_hex("ff ff ff ff 00");
	assert_int_equal(ykssh_buf_get_string(b, &s, &len),
	    YKSSH_ERR_STRING_TOO_LARGE);
	ykssh_buf_free(b);
	b = from_hex("01 00 00 00");
	assert_int_equal(ykssh_buf_get_stringb(b, b),
	    YKSSH_ERR_STRING_TOO_LARGE);
	ykssh_buf_free(b);
}

static void
test_stringb_and_froms(void **state)
{
	struct ykssh_buf *outer = ykssh_buf_new(), *inner = ykssh_buf_new();
	struct ykssh_buf *view = NULL, *copy = ykssh_buf_new();
	char *type = NULL;
	uint32_t v;

	(void)state;
	assert_int_equal(ykssh_buf_put_cstring(inner, "ssh-ed25519"), 0);
	assert_int_equal(ykssh_buf_put_u32(inner, 7), 0);
	assert_int_equal(ykssh_buf_put_stringb(outer, inner), 0);
	assert_int_equal(ykssh_buf_put_u8(outer, 0xee), 0);

	/* froms: a view of the nested string, consumed from outer. */
	assert_int_equal(ykssh_buf_froms(outer, &view), 0);
	assert_int_equal(ykssh_buf_len(outer), 1);
	assert_int_equal(ykssh_buf_get_cstring(view, &type, NULL), 0);
	assert_string_equal(type, "ssh-ed25519");
	free(type);
	assert_int_equal(ykssh_buf_get_u32(view, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ykssh_buf_check_empty(view), 0);
	/* A view is read-only. */
	assert_int_equal(ykssh_buf_put_u8(view, 1), YKSSH_ERR_BUFFER_READ_ONLY);
	assert_null(ykssh_buf_mutable_ptr(view));
	assert_int_equal(ykssh_buf_set_max_size(view, 10),
	    YKSSH_ERR_BUFFER_READ_ONLY);
	assert_int_equal(ykssh_buf_avail(view), 0);
	ykssh_buf_free(view);

	/* get_stringb appends the contents to another buffer. */
	ykssh_buf_reset(outer);
	assert_int_equal(ykssh_buf_put_stringb(outer, inner), 0);
	assert_int_equal(ykssh_buf_get_stringb(outer, copy), 0);
	assert_int_equal(ykssh_buf_len(copy), ykssh_buf_len(inner));
	assert_memory_equal(ykssh_buf_ptr(copy), ykssh_buf_ptr(inner),
	    ykssh_buf_len(inner));
	/* froms on truncated input fails and consumes nothing. */
	ykssh_buf_free(outer);
	outer = from_hex("00 00 00 04 01 02");
	assert_int_equal(ykssh_buf_froms(outer, &view),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_null(view);
	assert_int_equal(ykssh_buf_len(outer), 6);
	ykssh_buf_free(outer);
	ykssh_buf_free(inner);
	ykssh_buf_free(copy);
}

/* The view made by froms survives the parent being read to the end. */
static void
test_froms_view_outlives_consume(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new(), *view = NULL;

	(void)state;
	assert_int_equal(ykssh_buf_put_string(b, "abcd", 4), 0);
	assert_int_equal(ykssh_buf_froms(b, &view), 0);
	assert_int_equal(ykssh_buf_len(b), 0);
	assert_int_equal(ykssh_buf_cmp(view, 0, "abcd", 4), 0);
	ykssh_buf_free(view);
	ykssh_buf_free(b);
}

struct mpint_vector {
	const char	*magnitude;	/* hex, "" for zero */
	const char	*wire;
};

static void
test_mpint_vectors(void **state)
{
	/* RFC 4251 section 5 (non-negative rows). */
	static const struct mpint_vector v[] = {
		{ "", "00000000" },
		{ "09a378f9b2e332a7", "00000008 09a378f9b2e332a7" },
		{ "80", "00000002 0080" },
		{ "00000080", "00000002 0080" },	/* zeros stripped */
		{ "7f", "00000001 7f" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ykssh_buf *mag = from_hex(v[i].magnitude);
		struct ykssh_buf *b = ykssh_buf_new(), *want;
		const uint8_t *p;
		size_t len;

		assert_int_equal(ykssh_buf_put_mpint(b, ykssh_buf_ptr(mag),
		    ykssh_buf_len(mag)), 0);
		assert_buf_hex(b, v[i].wire);
		assert_int_equal(ykssh_buf_get_mpint_direct(b, &p, &len), 0);
		want = ykssh_buf_new();
		assert_int_equal(ykssh_buf_putb(want, mag), 0);
		while (ykssh_buf_len(want) > 0 &&
		    *ykssh_buf_ptr(want) == 0)
			assert_int_equal(ykssh_buf_consume(want, 1), 0);
		assert_int_equal(len, ykssh_buf_len(want));
		if (len > 0)
			assert_memory_equal(p, ykssh_buf_ptr(want), len);
		assert_int_equal(ykssh_buf_check_empty(b), 0);
		ykssh_buf_free(want);
		ykssh_buf_free(mag);
		ykssh_buf_free(b);
	}
}

static void
test_mpint_refusals(void **state)
{
	/* RFC 4251 negative examples, and non-minimal encodings. */
	static const struct {
		const char	*wire;
		int		 err;
	} v[] = {
		{ "00000002 edcc", YKSSH_ERR_BIGNUM_IS_NEGATIVE },
		{ "00000005 ff21524111", YKSSH_ERR_BIGNUM_IS_NEGATIVE },
		{ "00000001 00", YKSSH_ERR_INVALID_FORMAT },
		{ "00000002 0001", YKSSH_ERR_INVALID_FORMAT },
		{ "00000003 000080", YKSSH_ERR_INVALID_FORMAT },
		{ "00000002 00", YKSSH_ERR_MESSAGE_INCOMPLETE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ykssh_buf *b = from_hex(v[i].wire);
		const uint8_t *p = (const uint8_t *)"x";
		size_t len = 5, before = ykssh_buf_len(b);
		BIGNUM *bn = NULL;

		assert_int_equal(ykssh_buf_get_mpint_direct(b, &p, &len),
		    v[i].err);
		assert_null(p);
		assert_int_equal(len, 0);
		assert_int_equal(ykssh_buf_len(b), before);
		assert_int_equal(ykssh_buf_get_bignum(b, &bn), v[i].err);
		assert_null(bn);
		ykssh_buf_free(b);
	}
}

static void
test_mpint_size_cap(void **state)
{
	uint8_t big[YKSSH_BUF_MAX_BIGNUM + 1];
	struct ykssh_buf *b = ykssh_buf_new();
	const uint8_t *p;
	size_t len;

	(void)state;
	memset(big, 0x7f, sizeof(big));
	/* One byte over the cap. */
	assert_int_equal(ykssh_buf_put_mpint(b, big, sizeof(big)),
	    YKSSH_ERR_BIGNUM_TOO_LARGE);
	assert_int_equal(ykssh_buf_len(b), 0);
	/* Exactly the cap with the top bit set: needs the pad byte. */
	big[0] = 0x80;
	assert_int_equal(ykssh_buf_put_mpint(b, big, YKSSH_BUF_MAX_BIGNUM),
	    0);
	assert_int_equal(ykssh_buf_len(b), 4 + 1 + YKSSH_BUF_MAX_BIGNUM);
	assert_int_equal(ykssh_buf_get_mpint_direct(b, &p, &len), 0);
	assert_int_equal(len, YKSSH_BUF_MAX_BIGNUM);
	/* A hand-made over-cap mpint is refused on read. */
	big[0] = 0x01;
	assert_int_equal(ykssh_buf_put_string(b, big, sizeof(big)), 0);
	assert_int_equal(ykssh_buf_get_mpint_direct(b, &p, &len),
	    YKSSH_ERR_BIGNUM_TOO_LARGE);
	ykssh_buf_free(b);
}

static void
test_bignum_round_trip(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	BIGNUM *in = NULL, *out = NULL, *neg = NULL;

	(void)state;
	/* 65537 as RSA keys carry it: 00 00 00 03 01 00 01. */
	assert_int_not_equal(BN_dec2bn(&in, "65537"), 0);
	assert_int_equal(ykssh_buf_put_bignum(b, in), 0);
	assert_buf_hex(b, "00000003 010001");
	assert_int_equal(ykssh_buf_get_bignum(b, &out), 0);
	assert_int_equal(BN_cmp(in, out), 0);
	assert_int_not_equal(BN_dec2bn(&neg, "-5"), 0);
	assert_int_equal(ykssh_buf_put_bignum(b, neg),
	    YKSSH_ERR_BIGNUM_IS_NEGATIVE);
	BN_free(in);
	BN_free(out);
	BN_free(neg);
	ykssh_buf_free(b);
}

static void
test_max_size(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	uint8_t *p;

	(void)state;
	assert_int_equal(ykssh_buf_max_size(b), YKSSH_BUF_SIZE_MAX);
	assert_int_equal(ykssh_buf_set_max_size(b, YKSSH_BUF_SIZE_MAX + 1),
	    YKSSH_ERR_INVALID_ARGUMENT);
	assert_int_equal(ykssh_buf_set_max_size(b, 8), 0);
	assert_int_equal(ykssh_buf_put_u32(b, 1), 0);
	assert_int_equal(ykssh_buf_avail(b), 4);
	assert_int_equal(ykssh_buf_put_u64(b, 1), YKSSH_ERR_NO_BUFFER_SPACE);
	assert_int_equal(ykssh_buf_put_string(b, "abcd", 4),
	    YKSSH_ERR_NO_BUFFER_SPACE);
	assert_int_equal(ykssh_buf_len(b), 4);	/* nothing appended */
	assert_int_equal(ykssh_buf_reserve(b, 5, &p),
	    YKSSH_ERR_NO_BUFFER_SPACE);
	assert_null(p);
	assert_int_equal(ykssh_buf_put_u32(b, 2), 0);
	assert_int_equal(ykssh_buf_put_u8(b, 3), YKSSH_ERR_NO_BUFFER_SPACE);
	assert_int_equal(ykssh_buf_set_max_size(b, 7),
	    YKSSH_ERR_NO_BUFFER_SPACE);
	/* Reading makes room again. */
	assert_int_equal(ykssh_buf_get_u32(b, NULL), 0);
	assert_int_equal(ykssh_buf_put_u32(b, 4), 0);
	assert_buf_hex(b, "00000002 00000004");
	ykssh_buf_free(b);
}

static void
test_consume_and_cmp(void **state)
{
	struct ykssh_buf *b = from_hex("01 02 03 04 05");

	(void)state;
	assert_int_equal(ykssh_buf_consume(b, 6), YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_consume_end(b, 6),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_consume(b, 1), 0);
	assert_int_equal(ykssh_buf_consume_end(b, 1), 0);
	assert_buf_hex(b, "02 03 04");
	assert_int_equal(ykssh_buf_cmp(b, 1, "\x03\x04", 2), 0);
	assert_int_equal(ykssh_buf_cmp(b, 1, "\x03\x05", 2),
	    YKSSH_ERR_INVALID_FORMAT);
	assert_int_equal(ykssh_buf_cmp(b, 2, "\x04\x05", 2),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_cmp(b, SIZE_MAX, "", 1),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	assert_int_equal(ykssh_buf_check_empty(b), YKSSH_ERR_TRAILING_DATA);
	assert_int_equal(ykssh_buf_get(b, NULL, 3), 0);
	assert_int_equal(ykssh_buf_check_empty(b), 0);
	ykssh_buf_free(b);
}

static void
test_growth_keeps_data(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	uint32_t i, v, next = 0;

	(void)state;
	for (i = 0; i < 10000; i++) {
		assert_int_equal(ykssh_buf_put_u32(b, i), 0);
		/* Interleave reads so packing and growth both happen. */
		if (i % 3 == 2) {
			assert_int_equal(ykssh_buf_get_u32(b, &v), 0);
			assert_int_equal(v, next++);
		}
	}
	while (next < 10000) {
		assert_int_equal(ykssh_buf_get_u32(b, &v), 0);
		assert_int_equal(v, next++);
	}
	assert_int_equal(ykssh_buf_len(b), 0);
	ykssh_buf_free(b);
}

/* Reset and consumed-space reclaim leave no old bytes in storage. */
static void
test_wipe_on_reset_and_pack(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	size_t i;

	(void)state;
	assert_int_equal(ykssh_buf_put(b, "secret-pin-123456", 17), 0);
	ykssh_buf_reset(b);
	for (i = 0; i < b->alloc; i++)
		assert_int_equal(b->d[i], 0);
	/* Fill, read most of it, then force a pack by appending. */
	for (i = 0; i < b->alloc; i++)
		assert_int_equal(ykssh_buf_put_u8(b, 0xaa), 0);
	assert_int_equal(ykssh_buf_consume(b, b->alloc - 1), 0);
	assert_int_equal(ykssh_buf_put_u8(b, 0xbb), 0);
	assert_int_equal(b->off, 0);
	assert_int_equal(b->d[0], 0xaa);
	assert_int_equal(b->d[1], 0xbb);
	for (i = 2; i < b->alloc; i++)
		assert_int_equal(b->d[i], 0);
	ykssh_buf_free(b);
}

static void
test_base64_vectors(void **state)
{
	/* RFC 4648 section 10. */
	static const char *v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ykssh_buf *d = ykssh_buf_new(), *e = ykssh_buf_new();
		char *s;

		assert_int_equal(ykssh_buf_put(d, v[i][0], strlen(v[i][0])),
		    0);
		assert_int_equal(ykssh_buf_dtob64(d, e, 0), 0);
		s = ykssh_buf_dup_string(e);
		assert_string_equal(s, v[i][1]);
		free(s);
		ykssh_buf_reset(d);
		assert_int_equal(ykssh_buf_b64tod(d, v[i][1]), 0);
		s = ykssh_buf_dup_string(d);
		assert_string_equal(s, v[i][0]);
		free(s);
		ykssh_buf_free(d);
		ykssh_buf_free(e);
	}
}

static void
test_base64_wrap(void **state)
{
	struct ykssh_buf *d = ykssh_buf_new(), *e = ykssh_buf_new();
	const uint8_t *p;
	size_t i, col = 0, lines = 0;

	(void)state;
	/* 200 bytes -> 268 chars: three full 70-char lines + 58. */
	for (i = 0; i < 200; i++)
		assert_int_equal(ykssh_buf_put_u8(d, (uint8_t)i), 0);
	assert_int_equal(ykssh_buf_dtob64(d, e, 70), 0);
	p = ykssh_buf_ptr(e);
	for (i = 0; i < ykssh_buf_len(e); i++) {
		if (p[i] == '\n') {
			assert_true(col == 70 || i == ykssh_buf_len(e) - 1);
			col = 0;
			lines++;
		} else
			col++;
	}
	assert_int_equal(lines, 4);
	assert_int_equal(p[ykssh_buf_len(e) - 1], '\n');
	assert_int_equal(ykssh_buf_len(e), 268 + 4);
	/* Decoding skips the newlines and returns the same bytes. */
	ykssh_buf_reset(d);
	{
		char *s = ykssh_buf_dup_string(e);

		assert_int_equal(ykssh_buf_b64tod(d, s), 0);
		free(s);
	}
	assert_int_equal(ykssh_buf_len(d), 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(ykssh_buf_ptr(d)[i], (uint8_t)i);
	/* Exactly 70 chars: one line, one newline. */
	ykssh_buf_reset(d);
	ykssh_buf_reset(e);
	assert_int_equal(ykssh_buf_reserve(d, 51, NULL), 0);
	assert_int_equal(ykssh_buf_dtob64(d, e, 68), 0);
	assert_int_equal(ykssh_buf_len(e), 68 + 1);
	ykssh_buf_free(d);
	ykssh_buf_free(e);
}

static void
test_base64_refusals(void **state)
{
	static const char *bad[] = {
		"Zg=",		/* length not a multiple of 4 */
		"Zg",		/* missing padding */
		"Z===",		/* too much padding */
		"Zg==Zg==",	/* padding in the middle */
		"Zm9v!A==",	/* outside the alphabet */
		"Zh==",		/* non-zero unused bits */
		"Zm9=",		/* non-zero unused bits */
		"Zm-v",		/* URL-safe alphabet is not accepted */
		"=AAA",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ykssh_buf *d = ykssh_buf_new();

		assert_int_equal(ykssh_buf_b64tod(d, bad[i]),
		    YKSSH_ERR_INVALID_FORMAT);
		assert_int_equal(ykssh_buf_len(d), 0);
		ykssh_buf_free(d);
	}
}

static void
test_base64_no_room(void **state)
{
	struct ykssh_buf *d = ykssh_buf_new(), *e = ykssh_buf_new();

	(void)state;
	assert_int_equal(ykssh_buf_put(d, "foobar", 6), 0);
	assert_int_equal(ykssh_buf_set_max_size(e, 7), 0);
	assert_int_equal(ykssh_buf_dtob64(d, e, 0), YKSSH_ERR_NO_BUFFER_SPACE);
	assert_int_equal(ykssh_buf_len(e), 0);
	assert_int_equal(ykssh_buf_set_max_size(d, 6), 0);
	ykssh_buf_reset(d);
	assert_int_equal(ykssh_buf_b64tod(d, "Zm9vYmFyZg=="),
	    YKSSH_ERR_NO_BUFFER_SPACE);
	assert_int_equal(ykssh_buf_len(d), 0);
	ykssh_buf_free(d);
	ykssh_buf_free(e);
}

static void
test_hex_and_dup(void **state)
{
	struct ykssh_buf *b = from_hex("00 ff 10 ab");
	char *s;

	(void)state;
	s = ykssh_buf_dtohex(b);
	assert_string_equal(s, "00ff10ab");
	free(s);
	/* dup_string refuses data with a NUL. */
	assert_null(ykssh_buf_dup_string(b));
	ykssh_buf_free(b);
}

static void
test_from_view(void **state)
{
	static const uint8_t blob[] = { 0, 0, 0, 1, 'x' };
	struct ykssh_buf *v;
	char *s;

	(void)state;
	assert_null(ykssh_buf_from(NULL, 1));
	assert_null(ykssh_buf_from(blob, (size_t)YKSSH_BUF_SIZE_MAX + 1));
	v = ykssh_buf_from(blob, sizeof(blob));
	assert_non_null(v);
	assert_int_equal(ykssh_buf_get_cstring(v, &s, NULL), 0);
	assert_string_equal(s, "x");
	free(s);
	assert_int_equal(ykssh_buf_check_empty(v), 0);
	ykssh_buf_reset(v);
	ykssh_buf_free(v);
	v = ykssh_buf_from(NULL, 0);
	assert_non_null(v);
	assert_int_equal(ykssh_buf_len(v), 0);
	assert_int_equal(ykssh_buf_get_u8(v, NULL),
	    YKSSH_ERR_MESSAGE_INCOMPLETE);
	ykssh_buf_free(v);
}

static void
test_putf(void **state)
{
	struct ykssh_buf *b = ykssh_buf_new();
	char *s;

	(void)state;
	assert_int_equal(ykssh_buf_putf(b, "%s %d", "ssh-ed25519", 42), 0);
	s = ykssh_buf_dup_string(b);
	assert_string_equal(s, "ssh-ed25519 42");
	free(s);
	ykssh_buf_free(b);
}

/*
 * A parser of a nested structure shaped like an sk public key blob:
 * string type, string key, string application, and nothing after.
 */
static int
parse_blob(const uint8_t *p, size_t len)
{
	struct ykssh_buf *b = ykssh_buf_from(p, len), *inner = NULL;
	char *type = NULL, *app = NULL;
	const uint8_t *key;
	size_t keylen;
	int r;

	if (b == NULL)
		return YKSSH_ERR_NOMEM;
	if ((r = ykssh_buf_froms(b, &inner)) != 0 ||
	    (r = ykssh_buf_check_empty(b)) != 0 ||
	    (r = ykssh_buf_get_cstring(inner, &type, NULL)) != 0 ||
	    (r = ykssh_buf_get_string_direct(inner, &key, &keylen)) != 0 ||
	    (r = ykssh_buf_get_cstring(inner, &app, NULL)) != 0 ||
	    (r = ykssh_buf_check_empty(inner)) != 0)
		goto out;
	if (strcmp(type, "sk-ssh-ed25519@openssh.com") != 0 || keylen != 32)
		r = YKSSH_ERR_INVALID_FORMAT;
out:
	free(type);
	free(app);
	ykssh_buf_free(inner);
	ykssh_buf_free(b);
	return r;
}

/*
 * Every single-bit flip and every truncation of a valid blob either parses
 * or fails cleanly (ASan/UBSan catch the rest); truncations always fail.
 */
static void
test_mutation(void **state)
{
	struct ykssh_buf *inner = ykssh_buf_new(), *outer = ykssh_buf_new();
	uint8_t key[32], *copy;
	size_t len, i, bit;

	(void)state;
	memset(key, 0x42, sizeof(key));
	assert_int_equal(ykssh_buf_put_cstring(inner,
	    "sk-ssh-ed25519@openssh.com"), 0);
	assert_int_equal(ykssh_buf_put_string(inner, key, sizeof(key)), 0);
	assert_int_equal(ykssh_buf_put_cstring(inner, "ssh:"), 0);
	assert_int_equal(ykssh_buf_put_stringb(outer, inner), 0);
	len = ykssh_buf_len(outer);
	assert_int_equal(parse_blob(ykssh_buf_ptr(outer), len), 0);

	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, ykssh_buf_ptr(outer), len);
			copy[i] ^= (uint8_t)(1u << bit);
			(void)parse_blob(copy, len);
		}
	}
	for (i = 0; i < len; i++)
		assert_int_not_equal(parse_blob(ykssh_buf_ptr(outer), i), 0);
	free(copy);
	ykssh_buf_free(inner);
	ykssh_buf_free(outer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers_round_trip),
		cmocka_unit_test(test_integers_short),
		cmocka_unit_test(test_string_vectors),
		cmocka_unit_test(test_string_bounds),
		cmocka_unit_test(test_stringb_and_froms),
		cmocka_unit_test(test_froms_view_outlives_consume),
		cmocka_unit_test(test_mpint_vectors),
		cmocka_unit_test(test_mpint_refusals),
		cmocka_unit_test(test_mpint_size_cap),
		cmocka_unit_test(test_bignum_round_trip),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_consume_and_cmp),
		cmocka_unit_test(test_growth_keeps_data),
		cmocka_unit_test(test_wipe_on_reset_and_pack),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_wrap),
		cmocka_unit_test(test_base64_refusals),
		cmocka_unit_test(test_base64_no_room),
		cmocka_unit_test(test_hex_and_dup),
		cmocka_unit_test(test_from_view),
		cmocka_unit_test(test_putf),
		cmocka_unit_test(test_mutation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

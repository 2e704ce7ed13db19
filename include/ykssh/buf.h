/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SSH wire-format buffer (RFC 4251 section 5).
 *
 * A struct ykssh_buf is a byte queue: puts append at the end, gets consume
 * from the front.  It is either owned (growable up to a hard maximum) or a
 * read-only view of someone else's bytes (ykssh_buf_from, ykssh_buf_froms).
 *
 * Conventions, as in OpenSSH's sshbuf:
 *  - functions return 0 or a YKSSH_ERR_* code (include/ykssh/error.h);
 *  - a failed get consumes nothing and leaves its outputs untouched or NULL;
 *  - `_direct` getters return pointers into the buffer, valid until the
 *    buffer is next modified or freed;
 *  - owned storage is wiped when it is freed, reset or moved by growth, so
 *    a buffer can carry key material;
 *  - parsers finish with ykssh_buf_check_empty() (no trailing data).
 *
 * Encodings: u8/u16/u32/u64 big-endian; string = u32 length + bytes;
 * cstring = a string with no NUL inside; mpint = string holding a minimal
 * two's-complement big-endian integer (only non-negative values here).
 */
#ifndef YKSSH_BUF_H
#define YKSSH_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "ykssh/error.h"

/* Hard ceiling for any buffer; ykssh_buf_set_max_size() may lower it. */
#define YKSSH_BUF_SIZE_MAX	0x1000000	/* 16 MiB */
/* Largest mpint magnitude accepted, in bytes (16384-bit numbers). */
#define YKSSH_BUF_MAX_BIGNUM	(16384 / 8)

struct ykssh_buf;

/* An empty owned buffer.  NULL only on allocation failure. */
struct ykssh_buf *ykssh_buf_new(void) YKSSH_MUST_CHECK;
/*
 * A read-only view of len bytes at p (not copied: p must outlive it).
 * NULL on allocation failure or if len exceeds YKSSH_BUF_SIZE_MAX.
 */
struct ykssh_buf *ykssh_buf_from(const void *p, size_t len) YKSSH_MUST_CHECK;
/*
 * Consumes a string from buf and returns a read-only view of its contents
 * in *bufp.  The view points into buf's storage: do not modify buf while
 * the view is in use.  Errors: MESSAGE_INCOMPLETE, STRING_TOO_LARGE, NOMEM.
 */
int ykssh_buf_froms(struct ykssh_buf *buf, struct ykssh_buf **bufp)
    YKSSH_MUST_CHECK;
/* Wipes owned storage and frees.  NULL is ok. */
void ykssh_buf_free(struct ykssh_buf *buf);
/* Empties the buffer (wiping owned storage); a view just becomes empty. */
void ykssh_buf_reset(struct ykssh_buf *buf);

/* Bytes waiting to be read. */
size_t ykssh_buf_len(const struct ykssh_buf *buf);
/* How many more bytes can be appended before hitting the maximum. */
size_t ykssh_buf_avail(const struct ykssh_buf *buf);
size_t ykssh_buf_max_size(const struct ykssh_buf *buf);
/*
 * Lowers (or restores, up to YKSSH_BUF_SIZE_MAX) the maximum.  Fails with
 * NO_BUFFER_SPACE if the buffer already holds more, INVALID_ARGUMENT if
 * max exceeds the ceiling, BUFFER_READ_ONLY for a view.
 */
int ykssh_buf_set_max_size(struct ykssh_buf *buf, size_t max)
    YKSSH_MUST_CHECK;
/* First unread byte (NULL-safe for an empty buffer: may be NULL). */
const uint8_t *ykssh_buf_ptr(const struct ykssh_buf *buf);
/* Writable pointer to the unread bytes; NULL for a read-only view. */
uint8_t *ykssh_buf_mutable_ptr(struct ykssh_buf *buf);
/* 0 if the buffer is empty, else YKSSH_ERR_TRAILING_DATA. */
int ykssh_buf_check_empty(const struct ykssh_buf *buf) YKSSH_MUST_CHECK;
/* 0 if len more bytes could be appended (NO_BUFFER_SPACE, READ_ONLY). */
int ykssh_buf_check_reserve(const struct ykssh_buf *buf, size_t len)
    YKSSH_MUST_CHECK;
/*
 * Appends len uninitialised (zeroed) bytes and returns a pointer to them
 * in *dpp (if not NULL), valid until the next modification.
 */
int ykssh_buf_reserve(struct ykssh_buf *buf, size_t len, uint8_t **dpp)
    YKSSH_MUST_CHECK;
/* Drops len bytes from the front / the end (MESSAGE_INCOMPLETE if short). */
int ykssh_buf_consume(struct ykssh_buf *buf, size_t len) YKSSH_MUST_CHECK;
int ykssh_buf_consume_end(struct ykssh_buf *buf, size_t len)
    YKSSH_MUST_CHECK;
/* 0 if the len bytes at offset equal p (MESSAGE_INCOMPLETE, INVALID_FORMAT). */
int ykssh_buf_cmp(const struct ykssh_buf *buf, size_t offset, const void *p,
    size_t len) YKSSH_MUST_CHECK;

/* Raw bytes.  get with v == NULL skips len bytes. */
int ykssh_buf_get(struct ykssh_buf *buf, void *v, size_t len)
    YKSSH_MUST_CHECK;
int ykssh_buf_put(struct ykssh_buf *buf, const void *v, size_t len)
    YKSSH_MUST_CHECK;
/* Appends src's unread bytes to dst (src unchanged). */
int ykssh_buf_putb(struct ykssh_buf *dst, const struct ykssh_buf *src)
    YKSSH_MUST_CHECK;
int ykssh_buf_putf(struct ykssh_buf *buf, const char *fmt, ...)
    YKSSH_PRINTF(2, 3) YKSSH_MUST_CHECK;

/* Fixed-width integers, big-endian.  Outputs may be NULL to skip. */
int ykssh_buf_get_u64(struct ykssh_buf *buf, uint64_t *valp) YKSSH_MUST_CHECK;
int ykssh_buf_get_u32(struct ykssh_buf *buf, uint32_t *valp) YKSSH_MUST_CHECK;
int ykssh_buf_get_u16(struct ykssh_buf *buf, uint16_t *valp) YKSSH_MUST_CHECK;
int ykssh_buf_get_u8(struct ykssh_buf *buf, uint8_t *valp) YKSSH_MUST_CHECK;
int ykssh_buf_put_u64(struct ykssh_buf *buf, uint64_t val) YKSSH_MUST_CHECK;
int ykssh_buf_put_u32(struct ykssh_buf *buf, uint32_t val) YKSSH_MUST_CHECK;
int ykssh_buf_put_u16(struct ykssh_buf *buf, uint16_t val) YKSSH_MUST_CHECK;
int ykssh_buf_put_u8(struct ykssh_buf *buf, uint8_t val) YKSSH_MUST_CHECK;
/* Read without consuming, at `offset` bytes past the read position. */
int ykssh_buf_peek_u32(const struct ykssh_buf *buf, size_t offset,
    uint32_t *valp) YKSSH_MUST_CHECK;
int ykssh_buf_peek_u8(const struct ykssh_buf *buf, size_t offset,
    uint8_t *valp) YKSSH_MUST_CHECK;

/*
 * Strings.  ykssh_buf_get_string allocates a copy with an extra NUL after
 * the data (not counted in *lenp); free it with free(), or with
 * ykssh_freezero() if it was secret.  ykssh_buf_get_cstring additionally
 * refuses embedded NULs (INVALID_FORMAT).  Errors: MESSAGE_INCOMPLETE (the
 * length field or the data runs past the end), STRING_TOO_LARGE (length
 * above YKSSH_BUF_SIZE_MAX), NOMEM.
 */
int ykssh_buf_get_string(struct ykssh_buf *buf, uint8_t **valp,
    size_t *lenp) YKSSH_MUST_CHECK;
int ykssh_buf_get_cstring(struct ykssh_buf *buf, char **valp, size_t *lenp)
    YKSSH_MUST_CHECK;
int ykssh_buf_get_string_direct(struct ykssh_buf *buf, const uint8_t **valp,
    size_t *lenp) YKSSH_MUST_CHECK;
int ykssh_buf_peek_string_direct(const struct ykssh_buf *buf,
    const uint8_t **valp, size_t *lenp) YKSSH_MUST_CHECK;
/* Appends the string's contents to dst. */
int ykssh_buf_get_stringb(struct ykssh_buf *buf, struct ykssh_buf *dst)
    YKSSH_MUST_CHECK;
int ykssh_buf_put_string(struct ykssh_buf *buf, const void *v, size_t len)
    YKSSH_MUST_CHECK;
int ykssh_buf_put_cstring(struct ykssh_buf *buf, const char *v)
    YKSSH_MUST_CHECK;
/* Puts src's unread bytes as one string. */
int ykssh_buf_put_stringb(struct ykssh_buf *buf, const struct ykssh_buf *src)
    YKSSH_MUST_CHECK;

/*
 * mpint for non-negative integers.
 * get: returns the magnitude (big-endian, no leading zero byte) pointing
 * into the buffer.  Refuses negative values (BIGNUM_IS_NEGATIVE),
 * non-minimal encodings (INVALID_FORMAT: RFC 4251 forbids unnecessary
 * leading zero bytes) and magnitudes over YKSSH_BUF_MAX_BIGNUM bytes
 * (BIGNUM_TOO_LARGE).
 * put: takes a big-endian magnitude (leading zeros allowed) and writes the
 * minimal encoding, adding a zero byte when the top bit is set.
 */
int ykssh_buf_get_mpint_direct(struct ykssh_buf *buf, const uint8_t **valp,
    size_t *lenp) YKSSH_MUST_CHECK;
int ykssh_buf_put_mpint(struct ykssh_buf *buf, const uint8_t *v, size_t len)
    YKSSH_MUST_CHECK;
/* OpenSSL BIGNUM forms.  get allocates *valp (BN_clear_free it). */
int ykssh_buf_get_bignum(struct ykssh_buf *buf, BIGNUM **valp)
    YKSSH_MUST_CHECK;
int ykssh_buf_put_bignum(struct ykssh_buf *buf, const BIGNUM *v)
    YKSSH_MUST_CHECK;

/*
 * Base64 (standard alphabet, '=' padding), via OpenSSL.
 * dtob64: appends the encoding of src's unread bytes to b64; with wrap > 0
 * a newline follows every `wrap` characters and the last line.
 * b64tod: decodes and appends to buf.  Whitespace is skipped; anything
 * else outside the alphabet, misplaced or missing padding, and non-zero
 * unused bits are INVALID_FORMAT.  An empty string decodes to nothing.
 */
int ykssh_buf_dtob64(const struct ykssh_buf *src, struct ykssh_buf *b64,
    size_t wrap) YKSSH_MUST_CHECK;
int ykssh_buf_b64tod(struct ykssh_buf *buf, const char *b64)
    YKSSH_MUST_CHECK;
/*
 * Allocated NUL-terminated copies of the unread bytes: as a string (NULL if
 * they contain a NUL or on allocation failure) and as lowercase hex (NULL
 * on allocation failure).
 */
char *ykssh_buf_dup_string(const struct ykssh_buf *buf) YKSSH_MUST_CHECK;
char *ykssh_buf_dtohex(const struct ykssh_buf *buf) YKSSH_MUST_CHECK;

#endif /* YKSSH_BUF_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Secret hygiene.
 *
 * Every buffer that held a PIN, PUK, management key, API token or key
 * material is wiped before it is released, on every path.  Debian 12's
 * glibc has explicit_bzero() but no freezero(), hence ykssh_freezero().
 *
 * struct ykssh_secret is a fixed-capacity holder for a secret string (a
 * PIN read from the terminal, a token read from a file).  Its memory is
 * kept out of core dumps (MADV_DONTDUMP) and, where the limit allows,
 * locked in RAM (mlock); it is wiped on reset and free.  The capacity is
 * fixed at creation so the secret is never copied by a reallocation.
 */
#ifndef YKSSH_SECRET_H
#define YKSSH_SECRET_H

#include <stddef.h>

#include "ykssh/error.h"

/* explicit_bzero(ptr, len) then free(ptr).  NULL is ok. */
void ykssh_freezero(void *ptr, size_t len);
/* Wipes and frees a NUL-terminated string.  NULL is ok. */
void ykssh_free_secret_string(char *s);
/* Constant-time comparison: 0 when equal (like timingsafe_bcmp). */
int ykssh_timingsafe_bcmp(const void *a, const void *b, size_t len);

struct ykssh_secret;

/*
 * A holder for up to `max_len` bytes plus a terminating NUL.  NULL only on
 * allocation failure.
 */
struct ykssh_secret *ykssh_secret_new(size_t max_len) YKSSH_MUST_CHECK;
/* Wipes and frees.  NULL is ok. */
void ykssh_secret_free(struct ykssh_secret *s);
/* Wipes the contents; length becomes 0. */
void ykssh_secret_reset(struct ykssh_secret *s);
/*
 * Replaces the contents with len bytes (need not be NUL-terminated).
 * YKSSH_ERR_NO_BUFFER_SPACE if len exceeds the capacity (contents are then
 * wiped); YKSSH_ERR_INVALID_FORMAT if the bytes contain a NUL.
 */
int ykssh_secret_set(struct ykssh_secret *s, const void *p, size_t len)
    YKSSH_MUST_CHECK;
/* NUL-terminated view, valid until the next modification or free. */
const char *ykssh_secret_str(const struct ykssh_secret *s);
size_t ykssh_secret_len(const struct ykssh_secret *s);
size_t ykssh_secret_max_len(const struct ykssh_secret *s);
/*
 * Writable storage of max_len + 1 bytes for readers that fill it in place
 * (readpassphrase-style); call ykssh_secret_sync() afterwards so the length
 * is taken from the NUL terminator.
 */
char *ykssh_secret_buf(struct ykssh_secret *s);
void ykssh_secret_sync(struct ykssh_secret *s);

#endif /* YKSSH_SECRET_H */

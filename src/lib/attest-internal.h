/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the attest module, for attest.c and its tests. */
#ifndef YKSSH_ATTEST_INTERNAL_H
#define YKSSH_ATTEST_INTERNAL_H

#include <stddef.h>

#include <openssl/x509.h>

#include "ykssh/attest.h"

/* An empty trust store (NULL: no memory). */
struct ykssh_attest_trust *ykssh_attest_trust_new(void);
/*
 * Adds every certificate of a PEM text: self-signed ones as roots, the
 * others as intermediates.  `name` is for messages.  Errors: CONFIG (no
 * certificate in it), NOMEM.
 */
struct ykssh_err *ykssh_attest_trust_add_pem(struct ykssh_attest_trust *t,
    const char *pem, size_t len, const char *name) YKSSH_MUST_CHECK;
/*
 * NULL if x may be a packed attestation certificate for a token of this
 * AAGUID (16 bytes) under WebAuthn 8.2.1, else what is wrong.
 */
const char *ykssh_attest_check_packed_cert(X509 *x,
    const unsigned char *aaguid, size_t aaguid_len);

#endif /* YKSSH_ATTEST_INTERNAL_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the sshkey module, for sshkey*.c and their unit tests. */
#ifndef YKSSH_SSHKEY_INTERNAL_H
#define YKSSH_SSHKEY_INTERNAL_H

#include "ykssh/buf.h"
#include "ykssh/sshkey.h"

struct ykssh_sshkey {
	enum ykssh_keytype	 type;
	uint8_t			 pk[97];	/* Ed25519 or SEC1 point */
	size_t			 pklen;
	uint8_t			*rsa_n;		/* magnitudes, no leading 0 */
	size_t			 rsa_nlen;
	uint8_t			*rsa_e;
	size_t			 rsa_elen;
	unsigned		 rsa_bits;
	char			*application;	/* sk only */
	uint8_t			 flags;		/* sk only, from a stub */
	uint8_t			*key_handle;	/* sk only, from a stub */
	size_t			 key_handle_len;
};

/*
 * Reads the public fields that follow the type name (shared by blobs and
 * the private section of key files) into key, replacing its contents.  For
 * sk types the application is also returned in *applicationp (free it).
 */
struct ykssh_err *ykssh_sshkey_get_public_fields(struct ykssh_buf *b,
    enum ykssh_keytype type, struct ykssh_sshkey *key, char **applicationp)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_SSHKEY_INTERNAL_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the fido module, for fido*.c and their unit tests. */
#ifndef YKSSH_FIDO_INTERNAL_H
#define YKSSH_FIDO_INTERNAL_H

#include <fido.h>

#include "fido-io.h"
#include "ykssh/fido.h"

struct ykssh_fido_dev {
	struct ykssh_ctx	*ctx;
	fido_dev_t		*dev;
	char			*path;
	char			 name[64];	/* for "Touch your ..." */
	char			 firmware[16];
	char			 aaguid[37];	/* empty until known */
	const char		*model;
	fido_cbor_info_t	*info;		/* fetched lazily */
};

/*
 * Translates a libfido2 result into an error.  `what` names the operation
 * ("makeCredential").  For PIN_INVALID the retries left are queried and
 * put in the message.
 */
struct ykssh_err *ykssh_fido_err(struct ykssh_fido_dev *dev, int rc,
    const char *what) YKSSH_MUST_CHECK;
/* Records the AAGUID (16 bytes) and derives the model name. */
void ykssh_fido_set_aaguid(struct ykssh_fido_dev *dev, const uint8_t *p,
    size_t len);
/* The getInfo reply captured when the token was opened. */
const struct ykssh_fido_info *ykssh_fido_dev_info(
    const struct ykssh_fido_dev *dev);
/* The model for a 16-byte AAGUID, or NULL if unknown. */
const char *ykssh_fido_model_for_aaguid(const uint8_t *aaguid);

#endif /* YKSSH_FIDO_INTERNAL_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Does the attached token hold a key's credential?  A silent assertion
 * (user presence not requested) with the key handle in the allow list, as
 * OpenSSH's sk_probe does: the token answers without a touch, and with
 * NO_CREDENTIALS when the key handle is not one of its own.
 */
#include <string.h>

#include <fido.h>
#include <openssl/rand.h>

#include "fido-internal.h"

struct ykssh_err *
ykssh_fido_probe_key(struct ykssh_fido_dev *dev,
    const struct ykssh_sshkey *key, int *presentp)
{
	fido_assert_t *a = NULL;
	struct ykssh_err *err = NULL;
	uint8_t cdh[32];
	int rc;

	*presentp = 0;
	if (!ykssh_sshkey_type_is_sk(ykssh_sshkey_type(key)) ||
	    !ykssh_sshkey_has_key_handle(key))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "not a security key stub");
	if (RAND_bytes(cdh, sizeof(cdh)) != 1)
		return YKSSH_ERR(YKSSH_ERR_CRYPTO, "random client data hash");
	if ((a = fido_assert_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((rc = fido_assert_set_rp(a, ykssh_sshkey_application(key))) !=
	    FIDO_OK ||
	    (rc = fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh))) !=
	    FIDO_OK ||
	    (rc = fido_assert_allow_cred(a, ykssh_sshkey_key_handle_ptr(key),
	    ykssh_sshkey_key_handle_len(key))) != FIDO_OK ||
	    (rc = fido_assert_set_up(a, FIDO_OPT_FALSE)) != FIDO_OK) {
		err = YKSSH_ERR(YKSSH_ERR_INTERNAL, "assertion setup: %s",
		    fido_strerr(rc));
		goto out;
	}
	rc = fido_dev_get_assert(dev->dev, a, NULL);
	if (rc == FIDO_OK)
		*presentp = 1;
	else if (rc != FIDO_ERR_NO_CREDENTIALS)
		err = ykssh_fido_err(dev, rc, "silent getAssertion");
out:
	fido_assert_free(&a);
	return err;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Resident credentials through credential management: find the one that
 * is a given SSH key, and delete it.
 */
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <fido/credman.h>

#include "fido-internal.h"

/* The SSH key a resident credential is, under its application. */
static int
cred_fingerprint(const fido_cred_t *c, const char *rp, char **fpp)
{
	struct ykssh_sshkey *k;
	struct ykssh_err *err;
	uint8_t pk[65], kh = 0;
	size_t len = fido_cred_pubkey_len(c);
	enum ykssh_keytype type;

	*fpp = NULL;
	if (fido_cred_type(c) == COSE_EDDSA && len == 32) {
		type = YKSSH_KEY_ED25519_SK;
		memcpy(pk, fido_cred_pubkey_ptr(c), 32);
	} else if (fido_cred_type(c) == COSE_ES256 && len == 64) {
		type = YKSSH_KEY_ECDSA_SK;
		pk[0] = 0x04;
		memcpy(pk + 1, fido_cred_pubkey_ptr(c), 64);
		len = 65;
	} else
		return -1;
	if ((k = ykssh_sshkey_new()) == NULL)
		return -1;
	/* The blob has no key handle; any one byte satisfies the setter. */
	err = ykssh_sshkey_set_sk(k, type, pk, len, rp, 0, &kh, 1);
	if (err == NULL)
		err = ykssh_sshkey_fingerprint(k, fpp);
	ykssh_sshkey_free(k);
	if (err != NULL) {
		ykssh_err_free(err);
		return -1;
	}
	return 0;
}

struct ykssh_err *
ykssh_fido_delete_resident(struct ykssh_fido_dev *dev,
    const char *fingerprint, const char *pin, int *foundp)
{
	fido_credman_rp_t *rp = NULL;
	fido_credman_rk_t *rk = NULL;
	struct ykssh_err *err = NULL;
	size_t i, j;
	char *fp;
	int rc;

	*foundp = 0;
	if (!ykssh_fido_supports_credman(dev))
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s cannot list its resident keys (no credential "
		    "management)", dev->name);
	if ((rp = fido_credman_rp_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	rc = fido_credman_get_dev_rp(dev->dev, rp, pin);
	if (rc == FIDO_ERR_NO_CREDENTIALS)
		goto out;
	if (rc != FIDO_OK) {
		err = ykssh_fido_err(dev, rc, "credential management");
		goto out;
	}
	for (i = 0; i < fido_credman_rp_count(rp) && !*foundp; i++) {
		const char *id = fido_credman_rp_id(rp, i);

		if (id == NULL || strncmp(id, "ssh:", 4) != 0)
			continue;
		fido_credman_rk_free(&rk);
		if ((rk = fido_credman_rk_new()) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = fido_credman_get_dev_rk(dev->dev, id, rk, pin)) !=
		    FIDO_OK) {
			err = ykssh_fido_err(dev, rc, "credential management");
			goto out;
		}
		for (j = 0; j < fido_credman_rk_count(rk); j++) {
			const fido_cred_t *c = fido_credman_rk(rk, j);

			if (cred_fingerprint(c, id, &fp) != 0)
				continue;
			if (strcmp(fp, fingerprint) == 0) {
				free(fp);
				rc = fido_credman_del_dev_rk(dev->dev,
				    fido_cred_id_ptr(c), fido_cred_id_len(c),
				    pin);
				if (rc != FIDO_OK)
					err = ykssh_fido_err(dev, rc,
					    "deleting the resident key");
				else
					*foundp = 1;
				goto out;
			}
			free(fp);
		}
	}
out:
	fido_credman_rk_free(&rk);
	fido_credman_rp_free(&rp);
	return err;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Resident credentials through credential management: list them as SSH
 * keys (what ssh-keygen -K reads), delete one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <fido/credman.h>

#include "fido-internal.h"

#define PIN_MAX		63	/* CTAP: at most 63 bytes */

/*
 * The SSH key a resident credential is, as ssh-keygen -K reads it: user
 * presence assumed, resident, verification required when the credential
 * is protected that way; the credential id is the key handle.
 */
static struct ykssh_err *
cred_key(const fido_cred_t *c, const char *rp, struct ykssh_sshkey **kp)
{
	struct ykssh_sshkey *k;
	struct ykssh_err *err;
	uint8_t pk[65], flags;
	size_t len = fido_cred_pubkey_len(c);
	enum ykssh_keytype type;

	*kp = NULL;
	if (fido_cred_type(c) == COSE_EDDSA && len == 32) {
		type = YKSSH_KEY_ED25519_SK;
		memcpy(pk, fido_cred_pubkey_ptr(c), 32);
	} else if (fido_cred_type(c) == COSE_ES256 && len == 64) {
		type = YKSSH_KEY_ECDSA_SK;
		pk[0] = 0x04;
		memcpy(pk + 1, fido_cred_pubkey_ptr(c), 64);
		len = 65;
	} else
		return YKSSH_ERR(YKSSH_ERR_KEY_TYPE_UNKNOWN,
		    "resident credential of %s is not an SSH key type", rp);
	flags = YKSSH_SK_USER_PRESENCE_REQD | YKSSH_SK_RESIDENT_KEY;
	if (fido_cred_prot(c) == FIDO_CRED_PROT_UV_REQUIRED)
		flags |= YKSSH_SK_USER_VERIFICATION_REQD;
	if ((k = ykssh_sshkey_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_sshkey_set_sk(k, type, pk, len, rp, flags,
	    fido_cred_id_ptr(c), fido_cred_id_len(c))) != NULL) {
		ykssh_sshkey_free(k);
		return err;
	}
	*kp = k;
	return NULL;
}

/*
 * The user ssh-keygen -O user=... gave: OpenSSH stores it in the user id,
 * zero-padded (the user name is always "openssh").  NULL when empty or not
 * text.  -1 on allocation failure.
 */
static int
user_id(const fido_cred_t *c, char **userp)
{
	const unsigned char *p = fido_cred_user_id_ptr(c);
	size_t len = fido_cred_user_id_len(c), i;

	*userp = NULL;
	if (p == NULL)
		return 0;
	while (len > 0 && p[len - 1] == 0)
		len--;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return (*userp = strndup((const char *)p, len)) == NULL ? -1 : 0;
}

void
ykssh_fido_residents_free(struct ykssh_fido_resident *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++) {
		ykssh_sshkey_free(r[i].key);
		free(r[i].fingerprint);
		free(r[i].user);
	}
	free(r);
}

struct ykssh_err *
ykssh_fido_list_resident(struct ykssh_fido_dev *dev, const char *pin,
    struct ykssh_fido_resident **keysp, size_t *np)
{
	fido_credman_rp_t *rp = NULL;
	fido_credman_rk_t *rk = NULL;
	struct ykssh_fido_resident *keys = NULL, *tmp;
	struct ykssh_err *err = NULL;
	size_t i, j, n = 0;
	int rc;

	*keysp = NULL;
	*np = 0;
	if (!ykssh_fido_supports_credman(dev))
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s cannot list its resident keys (no credential "
		    "management)", dev->name), "resident keys on this token "
		    "can only be read with 'ssh-keygen -K'");
	if ((rp = fido_credman_rp_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	rc = fido_credman_get_dev_rp(dev->dev, rp, pin);
	if (rc == FIDO_ERR_NO_CREDENTIALS)
		goto out;
	if (rc != FIDO_OK) {
		err = ykssh_fido_err(dev, rc, "credential management");
		goto out;
	}
	for (i = 0; i < fido_credman_rp_count(rp); i++) {
		const char *id = fido_credman_rp_id(rp, i);

		/* OpenSSH's keys are the "ssh:" applications. */
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
			struct ykssh_fido_resident *r;

			if ((tmp = reallocarray(keys, n + 1,
			    sizeof(*keys))) == NULL) {
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
			keys = tmp;
			r = &keys[n];
			memset(r, 0, sizeof(*r));
			if ((err = cred_key(c, id, &r->key)) != NULL) {
				/* Not an SSH key type: not ours. */
				ykssh_err_free(err);
				err = NULL;
				continue;
			}
			n++;
			if ((err = ykssh_sshkey_fingerprint(r->key,
			    &r->fingerprint)) != NULL)
				goto out;
			if (user_id(c, &r->user) != 0) {
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
		}
	}
out:
	fido_credman_rk_free(&rk);
	fido_credman_rp_free(&rp);
	if (err != NULL) {
		ykssh_fido_residents_free(keys, n);
		return err;
	}
	*keysp = keys;
	*np = n;
	return NULL;
}

struct ykssh_err *
ykssh_fido_delete_resident(struct ykssh_fido_dev *dev,
    const char *fingerprint, const char *pin, int *foundp)
{
	struct ykssh_fido_resident *keys = NULL;
	struct ykssh_err *err;
	size_t i, n = 0;
	int rc;

	*foundp = 0;
	if ((err = ykssh_fido_list_resident(dev, pin, &keys, &n)) != NULL)
		return err;
	for (i = 0; i < n; i++) {
		const struct ykssh_sshkey *k = keys[i].key;

		if (strcmp(keys[i].fingerprint, fingerprint) != 0)
			continue;
		rc = fido_credman_del_dev_rk(dev->dev,
		    ykssh_sshkey_key_handle_ptr(k),
		    ykssh_sshkey_key_handle_len(k), pin);
		if (rc != FIDO_OK)
			err = ykssh_fido_err(dev, rc,
			    "deleting the resident key");
		else
			*foundp = 1;
		break;
	}
	ykssh_fido_residents_free(keys, n);
	return err;
}

struct ykssh_err *
ykssh_fido_read_residents(struct ykssh_ctx *ctx, const char *const *devices,
    size_t ndevices, ykssh_fido_pin_cb get_pin, void *arg,
    struct ykssh_fido_residents *out)
{
	struct ykssh_fido_dev *dev = NULL;
	struct ykssh_secret *pin = NULL;
	struct ykssh_err *err;
	char prompt[128];

	memset(out, 0, sizeof(*out));
	if ((err = ykssh_fido_open(ctx, devices, ndevices, &dev)) != NULL)
		return err;
	if ((out->path = strdup(dev->path)) == NULL ||
	    (out->model = strdup(ykssh_fido_model(dev))) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (get_pin == NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "reading the resident keys of your %s needs its PIN",
		    out->model), "run ykssh on a terminal, or set SSH_ASKPASS");
		goto out;
	}
	if ((pin = ykssh_secret_new(PIN_MAX)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Enter the FIDO PIN of your %s: ",
	    out->model);
	if ((err = get_pin(arg, prompt, pin)) == NULL &&
	    ykssh_secret_len(pin) == 0)
		err = YKSSH_ERR(YKSSH_ERR_CANCELLED, "no PIN entered");
	if (err == NULL)
		err = ykssh_fido_list_resident(dev, ykssh_secret_str(pin),
		    &out->keys, &out->n);
out:
	ykssh_secret_free(pin);
	ykssh_fido_close(dev);
	if (err != NULL)
		ykssh_fido_read_residents_clear(out);
	return err;
}

void
ykssh_fido_read_residents_clear(struct ykssh_fido_residents *r)
{
	ykssh_fido_residents_free(r->keys, r->n);
	free(r->path);
	free(r->model);
	memset(r, 0, sizeof(*r));
}

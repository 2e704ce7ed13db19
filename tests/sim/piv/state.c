/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Card life cycle and persistent state: factory creation, serialization
 * to and from memory (the executable writes it to a file atomically),
 * wiping free.
 *
 * Format: "PIVSIM\0\2", then records <tag u8> <len u32 BE> <value>:
 *   1 identity: profile, version[3], serial u32, form factor
 *   2 PIN/PUK: pin[8] puk[8] pin_max pin_left puk_max puk_left
 *   3 management key: alg, touch, key
 *   4 key slot: slot alg pin_policy touch_policy origin <private DER>
 *   5 object: id u32, value
 *   6 attestation root CA certificate (DER)
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pivsim-internal.h"

static const uint8_t magic[8] = { 'P', 'I', 'V', 'S', 'I', 'M', 0, 2 };

struct dbuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

void
pivsim_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

static void
dput(struct dbuf *d, const void *v, size_t n)
{
	uint8_t	*np;
	size_t	 ncap;

	if (d->err)
		return;
	if (n > d->cap - d->len) {
		ncap = d->cap * 2 + n + 256;
		if ((np = malloc(ncap)) == NULL) {
			d->err = 1;
			return;
		}
		if (d->len > 0)
			memcpy(np, d->p, d->len);
		pivsim_freezero(d->p, d->cap);
		d->p = np;
		d->cap = ncap;
	}
	if (n > 0)
		memcpy(d->p + d->len, v, n);
	d->len += n;
}

static void
drec(struct dbuf *d, uint8_t tag, const void *a, size_t an, const void *b,
    size_t bn)
{
	uint8_t	h[5];
	size_t	n = an + bn;

	h[0] = tag;
	h[1] = (uint8_t)(n >> 24);
	h[2] = (uint8_t)(n >> 16);
	h[3] = (uint8_t)(n >> 8);
	h[4] = (uint8_t)n;
	dput(d, h, sizeof(h));
	dput(d, a, an);
	dput(d, b, bn);
}

int
pivsim_save(const struct pivsim *c, uint8_t **out, size_t *outlen)
{
	struct dbuf	 d = { NULL, 0, 0, 0 };
	uint8_t		 v[24], *der = NULL;
	size_t		 i;
	int		 dl, r = -1;

	*out = NULL;
	*outlen = 0;
	dput(&d, magic, sizeof(magic));
	v[0] = (uint8_t)c->profile;
	memcpy(v + 1, c->version, 3);
	v[4] = (uint8_t)(c->serial >> 24);
	v[5] = (uint8_t)(c->serial >> 16);
	v[6] = (uint8_t)(c->serial >> 8);
	v[7] = (uint8_t)c->serial;
	v[8] = c->form_factor;
	drec(&d, 1, v, 9, NULL, 0);
	memcpy(v, c->pin, 8);
	memcpy(v + 8, c->puk, 8);
	v[16] = c->pin_max;
	v[17] = c->pin_left;
	v[18] = c->puk_max;
	v[19] = c->puk_left;
	drec(&d, 2, v, 20, NULL, 0);
	v[0] = c->mgm_alg;
	v[1] = c->mgm_touch;
	drec(&d, 3, v, 2, c->mgm_key, c->mgm_len);
	for (i = 0; i < NKEYS; i++) {
		const struct pivsim_key *k = &c->keys[i];

		if (k->slot == 0)
			continue;
		der = NULL;
		if ((dl = i2d_PrivateKey(k->pkey, &der)) <= 0)
			goto out;
		v[0] = k->slot;
		v[1] = k->alg;
		v[2] = k->pin_policy;
		v[3] = k->touch_policy;
		v[4] = k->origin;
		drec(&d, 4, v, 5, der, (size_t)dl);
		OPENSSL_clear_free(der, (size_t)dl);
		der = NULL;
	}
	for (i = 0; i < MAX_OBJS; i++) {
		const struct pivsim_obj *o = &c->objs[i];

		if (o->id == 0)
			continue;
		v[0] = (uint8_t)(o->id >> 24);
		v[1] = (uint8_t)(o->id >> 16);
		v[2] = (uint8_t)(o->id >> 8);
		v[3] = (uint8_t)o->id;
		drec(&d, 5, v, 4, o->data, o->len);
	}
	drec(&d, 6, c->ca_der, c->ca_len, NULL, 0);
	if (d.err)
		goto out;
	*out = d.p;
	*outlen = d.len;
	d.p = NULL;			/* transferred */
	r = 0;
out:
	OPENSSL_cleanse(v, sizeof(v));
	pivsim_freezero(d.p, d.cap);
	return (r);
}

static int
key_matches(EVP_PKEY *pk, uint8_t alg)
{
	switch (alg) {
	case ALG_RSA1024:
		return (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
		    EVP_PKEY_get_bits(pk) == 1024);
	case ALG_RSA2048:
		return (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
		    EVP_PKEY_get_bits(pk) == 2048);
	case ALG_ECCP256:
		return (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
		    EVP_PKEY_get_bits(pk) == 256);
	case ALG_ECCP384:
		return (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
		    EVP_PKEY_get_bits(pk) == 384);
	case ALG_ED25519:
		return (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519);
	default:
		return (0);
	}
}

static int
load_record(struct pivsim *c, uint8_t tag, const uint8_t *v, size_t n)
{
	struct pivsim_key	*k;
	const uint8_t		*p;
	uint32_t		 id;
	int			 idx;

	switch (tag) {
	case 1:
		if (n != 9 || v[0] > PIVSIM_PROFILE_57)
			return (-1);
		c->profile = (enum pivsim_profile)v[0];
		memcpy(c->version, v + 1, 3);
		c->serial = ((uint32_t)v[4] << 24) | ((uint32_t)v[5] << 16) |
		    ((uint32_t)v[6] << 8) | v[7];
		c->form_factor = v[8];
		return (0);
	case 2:
		if (n != 20 || v[16] == 0 || v[18] == 0 || v[17] > v[16] ||
		    v[19] > v[18])
			return (-1);
		memcpy(c->pin, v, 8);
		memcpy(c->puk, v + 8, 8);
		c->pin_max = v[16];
		c->pin_left = v[17];
		c->puk_max = v[18];
		c->puk_left = v[19];
		return (0);
	case 3:
		if (n < 2 || n - 2 > sizeof(c->mgm_key) ||
		    (v[0] == ALG_3DES ? n - 2 != 24 :
		    v[0] == ALG_AES128 ? n - 2 != 16 :
		    v[0] == ALG_AES192 ? n - 2 != 24 :
		    v[0] == ALG_AES256 ? n - 2 != 32 : 1))
			return (-1);
		c->mgm_alg = v[0];
		c->mgm_touch = v[1] != 0;
		memcpy(c->mgm_key, v + 2, n - 2);
		c->mgm_len = n - 2;
		return (0);
	case 4:
		if (n < 6 || (idx = slot_index(v[0])) < 0 ||
		    v[2] < 1 || v[2] > 3 || v[3] < 1 || v[3] > 3 ||
		    (v[4] != ORIGIN_GENERATED && v[4] != ORIGIN_IMPORTED))
			return (-1);
		k = &c->keys[idx];
		key_clear(k);
		p = v + 5;
		if ((k->pkey = d2i_AutoPrivateKey(NULL, &p,
		    (long)(n - 5))) == NULL || p != v + n ||
		    !key_matches(k->pkey, v[1])) {
			key_clear(k);
			return (-1);
		}
		k->slot = v[0];
		k->alg = v[1];
		k->pin_policy = v[2];
		k->touch_policy = v[3];
		k->origin = v[4];
		return (0);
	case 5:
		id = ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) |
		    ((uint32_t)v[2] << 8) | v[3];
		if (n < 5 || n - 4 > OBJ_MAX || !obj_id_valid(id))
			return (-1);
		return (obj_set(c, id, v + 4, n - 4));
	case 6:
		if (n == 0 || c->ca_der != NULL ||
		    (c->ca_der = malloc(n)) == NULL)
			return (-1);
		memcpy(c->ca_der, v, n);
		c->ca_len = n;
		return (0);
	default:
		return (-1);
	}
}

static struct pivsim *
alloc_card(void)
{
	struct pivsim	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->applet = APPLET_PIV;
	return (c);
}

struct pivsim *
pivsim_load(const uint8_t *p, size_t n)
{
	struct pivsim	*c = NULL;
	size_t		 l;
	uint8_t		 tag, seen = 0;

	if (n < sizeof(magic) || memcmp(p, magic, sizeof(magic)) != 0 ||
	    (c = alloc_card()) == NULL)
		goto fail;
	p += sizeof(magic);
	n -= sizeof(magic);
	while (n > 0) {
		if (n < 5)
			goto fail;
		tag = p[0];
		l = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) |
		    ((size_t)p[3] << 8) | p[4];
		if (l > n - 5 || load_record(c, tag, p + 5, l) != 0)
			goto fail;
		if (tag >= 1 && tag <= 3)
			seen |= (uint8_t)(1 << tag);
		p += 5 + l;
		n -= 5 + l;
	}
	if (seen != 0x0e || c->ca_der == NULL)
		goto fail;
	c->dirty = 0;
	return (c);
fail:
	pivsim_free(c);
	return (NULL);
}

struct pivsim *
pivsim_new(enum pivsim_profile profile, uint32_t serial)
{
	struct pivsim	*c;

	if ((c = alloc_card()) == NULL)
		return (NULL);
	c->profile = profile;
	c->version[0] = 5;
	c->version[1] = profile == PIVSIM_PROFILE_57 ? 7 : 4;
	c->version[2] = profile == PIVSIM_PROFILE_57 ? 2 : 3;
	c->serial = serial;
	c->form_factor = 0x01;		/* USB-A keychain */
	pin_factory(c);
	mgmt_factory(c);
	if (attest_factory(c) != 0) {
		pivsim_free(c);
		return (NULL);
	}
	c->dirty = 1;
	return (c);
}

void
pivsim_free(struct pivsim *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		key_clear(&c->keys[i]);
	for (i = 0; i < MAX_OBJS; i++)
		obj_clear(&c->objs[i]);
	EVP_PKEY_free(c->rsa_pool[0]);
	EVP_PKEY_free(c->rsa_pool[1]);
	free(c->ca_der);
	pivsim_freezero(c, sizeof(*c));	/* PIN, PUK, mgmt key, buffers */
}

void
pivsim_set_touch_cb(struct pivsim *c, pivsim_touch_cb *cb, void *arg)
{
	c->touch_cb = cb;
	c->touch_arg = arg;
}

void
pivsim_set_clock_cb(struct pivsim *c, pivsim_clock_cb *cb, void *arg)
{
	c->clock_cb = cb;
	c->clock_arg = arg;
}

void
pivsim_set_rand_cb(struct pivsim *c, pivsim_rand_cb *cb, void *arg)
{
	c->rand_cb = cb;
	c->rand_arg = arg;
}

void
pivsim_set_rsa_pool(struct pivsim *c, void *k1024, void *k2048)
{
	EVP_PKEY	*k[2] = { k1024, k2048 };
	int		 i;

	for (i = 0; i < 2; i++) {
		EVP_PKEY_free(c->rsa_pool[i]);
		c->rsa_pool[i] = NULL;
		if (k[i] != NULL && EVP_PKEY_up_ref(k[i]) == 1)
			c->rsa_pool[i] = k[i];
	}
}

int
pivsim_dirty(const struct pivsim *c)
{
	return (c->dirty);
}

void
pivsim_clear_dirty(struct pivsim *c)
{
	c->dirty = 0;
}

const struct pivsim_stats *
pivsim_stats(const struct pivsim *c)
{
	return (&c->stats);
}

const uint8_t *
pivsim_ca_cert(const struct pivsim *c, size_t *len)
{
	*len = c->ca_len;
	return (c->ca_der);
}

enum pivsim_profile
pivsim_profile(const struct pivsim *c)
{
	return (c->profile);
}

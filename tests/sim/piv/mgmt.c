/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Management key (slot 9B): GENERAL AUTHENTICATE in its mutual and
 * single-sided forms for 3DES and AES-128/192/256, and the Yubico SET
 * MANAGEMENT KEY instruction.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pivsim-internal.h"

static const uint8_t default_mgm[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

void
mgmt_factory(struct pivsim *c)
{
	OPENSSL_cleanse(c->mgm_key, sizeof(c->mgm_key));
	memcpy(c->mgm_key, default_mgm, sizeof(default_mgm));
	c->mgm_len = sizeof(default_mgm);
	/* Firmware 5.7 ships an AES-192 key with the same 24 bytes. */
	c->mgm_alg = c->profile == PIVSIM_PROFILE_57 ? ALG_AES192 : ALG_3DES;
	c->mgm_touch = 0;
}

int
mgmt_key_is_default(const struct pivsim *c)
{
	return (c->mgm_len == sizeof(default_mgm) &&
	    CRYPTO_memcmp(c->mgm_key, default_mgm, sizeof(default_mgm)) == 0);
}

static size_t
key_len(uint8_t alg)
{
	switch (alg) {
	case ALG_3DES:
	case ALG_AES192:
		return (24);
	case ALG_AES128:
		return (16);
	case ALG_AES256:
		return (32);
	default:
		return (0);
	}
}

/* One ECB block (8 bytes for 3DES, 16 for AES) with the card's key. */
static int
ecb(const struct pivsim *c, int enc, const uint8_t *in, uint8_t *out,
    size_t n)
{
	const EVP_CIPHER	*cipher;
	EVP_CIPHER_CTX		*ctx = NULL;
	int			 outl = 0, r = -1;

	switch (c->mgm_alg) {
	case ALG_3DES:
		cipher = EVP_des_ede3_ecb();
		break;
	case ALG_AES128:
		cipher = EVP_aes_128_ecb();
		break;
	case ALG_AES192:
		cipher = EVP_aes_192_ecb();
		break;
	case ALG_AES256:
		cipher = EVP_aes_256_ecb();
		break;
	default:
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, cipher, NULL, c->mgm_key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1 ||
	    (size_t)outl != n)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return (r);
}

/*
 * GENERAL AUTHENTICATE with key reference 9B.  Forms (inside 7C):
 *   80 00                 -> 80 <E(witness)>        mutual, step 1
 *   80 <witness> 81 <ch>  -> 82 <E(ch)>             mutual, step 2
 *   81 00                 -> 81 <challenge>         single-sided, step 1
 *   82 <E(challenge)>     -> (no data)              single-sided, step 2
 * P1 must name the key's algorithm (6A80 otherwise: that is what a 5.7
 * token answers to libykpiv 2.2's hard-coded 3DES).
 */
uint16_t
cmd_mgmt_auth(struct pivsim *c, uint8_t p1, const uint8_t *data, size_t len)
{
	const uint8_t	*in, *t80 = NULL, *t81 = NULL, *t82 = NULL, *v;
	size_t		 inlen, l80 = 0, l81 = 0, l82 = 0, vlen, bs;
	uint8_t		 tag, blk[16], blk2[16];
	struct ob	 b;
	int		 kind;
	uint16_t	 sw = SW_WRONG_DATA;

	kind = c->wit_kind;
	c->wit_kind = 0;
	c->mgm_ok = 0;
	if (p1 != c->mgm_alg)
		goto out;
	bs = c->mgm_alg == ALG_3DES ? 8 : 16;
	in = data;
	inlen = len;
	if (tlv_read(&in, &inlen, &tag, &v, &vlen) != 0 || tag != 0x7c ||
	    inlen != 0)
		goto out;
	in = v;
	inlen = vlen;
	while (inlen > 0) {
		if (tlv_read(&in, &inlen, &tag, &v, &vlen) != 0)
			goto out;
		if (tag == 0x80 && t80 == NULL) {
			t80 = v;
			l80 = vlen;
		} else if (tag == 0x81 && t81 == NULL) {
			t81 = v;
			l81 = vlen;
		} else if (tag == 0x82 && t82 == NULL) {
			t82 = v;
			l82 = vlen;
		} else
			goto out;
	}
	ob_init(&b, c->out, sizeof(c->out));

	if (t80 != NULL && l80 == 0 && t81 == NULL && t82 == NULL) {
		if (card_random(c, c->witness, bs) != 0 ||
		    ecb(c, 1, c->witness, blk, bs) != 0) {
			sw = SW_UNKNOWN;
			goto out;
		}
		c->wit_kind = 1;
		c->wit_alg = c->mgm_alg;
		ob_hdr(&b, 0x7c, bs + 2);
		ob_tlv(&b, 0x80, blk, bs);
	} else if (t80 != NULL && l80 == bs && t81 != NULL && l81 == bs &&
	    t82 == NULL) {
		if (kind != 1 || c->wit_alg != c->mgm_alg ||
		    CRYPTO_memcmp(t80, c->witness, bs) != 0) {
			sw = SW_SECURITY;
			goto out;
		}
		if (c->mgm_touch && !need_touch(c, TOUCH_ALWAYS)) {
			sw = SW_SECURITY;
			goto out;
		}
		if (ecb(c, 1, t81, blk, bs) != 0) {
			sw = SW_UNKNOWN;
			goto out;
		}
		ob_hdr(&b, 0x7c, bs + 2);
		ob_tlv(&b, 0x82, blk, bs);
		c->mgm_ok = 1;
	} else if (t81 != NULL && l81 == 0 && t80 == NULL && t82 == NULL) {
		if (card_random(c, c->witness, bs) != 0) {
			sw = SW_UNKNOWN;
			goto out;
		}
		c->wit_kind = 2;
		c->wit_alg = c->mgm_alg;
		ob_hdr(&b, 0x7c, bs + 2);
		ob_tlv(&b, 0x81, c->witness, bs);
	} else if (t82 != NULL && l82 == bs && t80 == NULL && t81 == NULL) {
		if (kind != 2 || c->wit_alg != c->mgm_alg ||
		    ecb(c, 1, c->witness, blk2, bs) != 0 ||
		    CRYPTO_memcmp(t82, blk2, bs) != 0) {
			sw = SW_SECURITY;
			goto out;
		}
		if (c->mgm_touch && !need_touch(c, TOUCH_ALWAYS)) {
			sw = SW_SECURITY;
			goto out;
		}
		c->mgm_ok = 1;
	} else
		goto out;
	if (b.err) {
		sw = SW_UNKNOWN;
		goto out;
	}
	c->out_len = b.len;
	sw = SW_OK;
out:
	if (c->wit_kind == 0)
		OPENSSL_cleanse(c->witness, sizeof(c->witness));
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(blk2, sizeof(blk2));
	return (sw);
}

/*
 * SET MANAGEMENT KEY: P1 FF, P2 FF (no touch) or FE (touch required),
 * data <alg> 9B <len> <key>.
 */
uint16_t
cmd_set_mgmt_key(struct pivsim *c, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t len)
{
	size_t	kl;

	if (!c->mgm_ok)
		return (SW_SECURITY);
	if (p1 != 0xff || (p2 != 0xff && p2 != 0xfe))
		return (SW_INCORRECT_P1P2);
	if (len < 3 || data[1] != 0x9b || (kl = key_len(data[0])) == 0 ||
	    data[2] != kl || len != 3 + kl)
		return (SW_WRONG_DATA);
	OPENSSL_cleanse(c->mgm_key, sizeof(c->mgm_key));
	memcpy(c->mgm_key, data + 3, kl);
	c->mgm_len = kl;
	c->mgm_alg = data[0];
	c->mgm_touch = p2 == 0xfe;
	c->dirty = 1;
	return (SW_OK);
}

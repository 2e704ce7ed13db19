/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parsers of PIV card data: BER-TLV as the YubiKey PIV applet writes it
 * (one- or two-byte tags, lengths 1 byte / 81 xx / 82 xx xx), GET
 * METADATA replies, public-key templates, certificate, printed-information
 * and admin-data objects.  Pure functions over caller memory: the unit
 * tests and fuzz_piv_data drive them directly.
 */
#include <stdlib.h>
#include <string.h>

#include "piv-internal.h"

/* One TLV at data[0..len): tag, value; returns bytes used or 0. */
static size_t
tlv_next(const uint8_t *data, size_t len, unsigned *tagp,
    const uint8_t **valp, size_t *vlenp)
{
	size_t off = 0, vlen;

	if (len < 2)
		return 0;
	*tagp = data[off++];
	/* Two-byte tags: low five bits all set (7F49, 5F..). */
	if ((*tagp & 0x1f) == 0x1f) {
		if (off >= len || (data[off] & 0x80) != 0)
			return 0;
		*tagp = (*tagp << 8) | data[off++];
	}
	if (off >= len)
		return 0;
	if (data[off] < 0x80)
		vlen = data[off++];
	else if (data[off] == 0x81) {
		if (len - off < 2 || data[off + 1] < 0x80)
			return 0;
		vlen = data[off + 1];
		off += 2;
	} else if (data[off] == 0x82) {
		if (len - off < 3)
			return 0;
		vlen = ((size_t)data[off + 1] << 8) | data[off + 2];
		if (vlen < 0x100)
			return 0;
		off += 3;
	} else
		return 0;
	if (vlen > len - off)
		return 0;
	*valp = data + off;
	*vlenp = vlen;
	return off + vlen;
}

int
ykssh_piv_tlv_find(const uint8_t *data, size_t len, unsigned tag,
    const uint8_t **valp, size_t *vlenp)
{
	const uint8_t *v;
	size_t n, vlen;
	unsigned t;

	*valp = NULL;
	*vlenp = 0;
	while (len > 0) {
		if ((n = tlv_next(data, len, &t, &v, &vlen)) == 0)
			return -1;
		if (t == tag) {
			*valp = v;
			*vlenp = vlen;
			return 0;
		}
		data += n;
		len -= n;
	}
	return -1;
}

int
ykssh_piv_tlv_check(const uint8_t *data, size_t len)
{
	const uint8_t *v;
	size_t n, vlen;
	unsigned t;

	while (len > 0) {
		if ((n = tlv_next(data, len, &t, &v, &vlen)) == 0)
			return -1;
		data += n;
		len -= n;
	}
	return 0;
}

int
ykssh_piv_metadata_parse(const uint8_t *data, size_t len,
    struct piv_metadata *md)
{
	const uint8_t *v;
	size_t n, vlen;
	unsigned t;

	memset(md, 0, sizeof(*md));
	while (len > 0) {
		if ((n = tlv_next(data, len, &t, &v, &vlen)) == 0)
			goto bad;
		switch (t) {
		case 0x01:
			if (vlen != 1)
				goto bad;
			md->algorithm = v[0];
			md->has |= PIV_MD_HAS_ALG;
			break;
		case 0x02:
			/* 9B sends one byte (touch) on some firmware. */
			if (vlen == 1) {
				md->touch_policy = v[0];
			} else if (vlen == 2) {
				md->pin_policy = v[0];
				md->touch_policy = v[1];
			} else
				goto bad;
			md->has |= PIV_MD_HAS_POLICY;
			break;
		case 0x03:
			if (vlen != 1)
				goto bad;
			md->origin = v[0];
			md->has |= PIV_MD_HAS_ORIGIN;
			break;
		case 0x04:
			md->pubkey = v;
			md->pubkey_len = vlen;
			md->has |= PIV_MD_HAS_PUBKEY;
			break;
		case 0x05:
			if (vlen != 1)
				goto bad;
			md->is_default = v[0];
			md->has |= PIV_MD_HAS_DEFAULT;
			break;
		case 0x06:
			if (vlen != 2 || v[1] > v[0])
				goto bad;
			md->retries_total = v[0];
			md->retries_left = v[1];
			md->has |= PIV_MD_HAS_RETRIES;
			break;
		default:
			break;	/* newer firmware adds tags */
		}
		data += n;
		len -= n;
	}
	return 0;
bad:
	memset(md, 0, sizeof(*md));
	return -1;
}

struct ykssh_err *
ykssh_piv_pubkey_parse(uint8_t alg, const uint8_t *data, size_t len,
    int outer_7f49, struct ykssh_sshkey **keyp)
{
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err = NULL;
	const uint8_t *v, *n, *e;
	size_t vlen, nlen, elen;

	*keyp = NULL;
	if (outer_7f49) {
		if (ykssh_piv_tlv_find(data, len, 0x7f49, &v, &vlen) != 0)
			return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "public key reply has no 7F49 template");
		data = v;
		len = vlen;
	}
	if (ykssh_piv_tlv_check(data, len) != 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "malformed public key template");
	if ((key = ykssh_sshkey_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	switch (alg) {
	case YKSSH_PIV_ALG_ECCP256:
	case YKSSH_PIV_ALG_ECCP384:
		if (ykssh_piv_tlv_find(data, len, 0x86, &v, &vlen) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "public key template has no EC point");
			goto out;
		}
		err = ykssh_sshkey_set_public(key,
		    alg == YKSSH_PIV_ALG_ECCP256 ? YKSSH_KEY_ECDSA_P256 :
		    YKSSH_KEY_ECDSA_P384, v, vlen);
		break;
	case YKSSH_PIV_ALG_RSA2048:
		if (ykssh_piv_tlv_find(data, len, 0x81, &n, &nlen) != 0 ||
		    ykssh_piv_tlv_find(data, len, 0x82, &e, &elen) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "public key template lacks modulus or exponent");
			goto out;
		}
		if (nlen != 256) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "RSA-2048 modulus of %zu bytes", nlen);
			goto out;
		}
		err = ykssh_sshkey_set_rsa(key, n, nlen, e, elen);
		break;
	default:
		err = YKSSH_ERR(YKSSH_ERR_KEY_TYPE_UNKNOWN,
		    "PIV algorithm 0x%02x", alg);
		break;
	}
	if (err != NULL)
		goto out;
	*keyp = key;
	key = NULL;	/* transferred */
out:
	ykssh_sshkey_free(key);
	return err;
}

int
ykssh_piv_certobj_parse(const uint8_t *data, size_t len,
    const uint8_t **derp, size_t *derlenp)
{
	const uint8_t *v, *info;
	size_t vlen, ilen;

	*derp = NULL;
	*derlenp = 0;
	if (ykssh_piv_tlv_find(data, len, 0x53, &v, &vlen) != 0 ||
	    ykssh_piv_tlv_check(v, vlen) != 0 ||
	    ykssh_piv_tlv_find(v, vlen, 0x70, derp, derlenp) != 0)
		return -1;
	/* Compressed certificates (71 01 01) are not ours: refuse. */
	if (ykssh_piv_tlv_find(v, vlen, 0x71, &info, &ilen) == 0 &&
	    (ilen != 1 || info[0] != 0)) {
		*derp = NULL;
		*derlenp = 0;
		return -1;
	}
	if (*derlenp < 2 || (*derp)[0] != 0x30) {
		*derp = NULL;
		*derlenp = 0;
		return -1;
	}
	return 0;
}

int
ykssh_piv_protected_parse(const uint8_t *data, size_t len,
    const uint8_t **keyp, size_t *keylenp)
{
	const uint8_t *v, *w;
	size_t vlen, wlen;

	*keyp = NULL;
	*keylenp = 0;
	if (ykssh_piv_tlv_find(data, len, 0x53, &v, &vlen) != 0 ||
	    ykssh_piv_tlv_find(v, vlen, 0x88, &w, &wlen) != 0 ||
	    ykssh_piv_tlv_check(w, wlen) != 0 ||
	    ykssh_piv_tlv_find(w, wlen, 0x89, keyp, keylenp) != 0)
		return -1;
	if (*keylenp != 16 && *keylenp != 24 && *keylenp != 32) {
		*keyp = NULL;
		*keylenp = 0;
		return -1;
	}
	return 0;
}

int
ykssh_piv_admin_flags(const uint8_t *data, size_t len)
{
	const uint8_t *v, *w, *f;
	size_t vlen, wlen, flen;

	if (ykssh_piv_tlv_find(data, len, 0x53, &v, &vlen) != 0 ||
	    ykssh_piv_tlv_find(v, vlen, 0x80, &w, &wlen) != 0 ||
	    ykssh_piv_tlv_check(w, wlen) != 0)
		return -1;
	if (ykssh_piv_tlv_find(w, wlen, 0x81, &f, &flen) != 0)
		return 0;
	if (flen != 1)
		return -1;
	return f[0];
}

size_t
ykssh_piv_put_len(uint8_t *p, size_t len)
{
	if (len < 0x80) {
		p[0] = (uint8_t)len;
		return 1;
	}
	if (len < 0x100) {
		p[0] = 0x81;
		p[1] = (uint8_t)len;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	return 3;
}

size_t
ykssh_piv_mgmt_key_len(uint8_t alg)
{
	switch (alg) {
	case YKSSH_PIV_ALG_3DES:
	case YKSSH_PIV_ALG_AES192:
		return 24;
	case YKSSH_PIV_ALG_AES128:
		return 16;
	case YKSSH_PIV_ALG_AES256:
		return 32;
	default:
		return 0;
	}
}

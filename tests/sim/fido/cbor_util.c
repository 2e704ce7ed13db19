/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CBOR helpers: typed getters for request maps and builders that produce
 * canonical CBOR (CTAP2 §8: shortest integers, definite lengths, map keys
 * sorted by their encoded bytes).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

const cbor_item_t *
cb_map_get(const cbor_item_t *map, uint64_t key)
{
	struct cbor_pair *p;
	size_t i, n;
	uint64_t k;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		if (cbor_isa_uint(p[i].key) && cb_get_uint(p[i].key, &k) == 0 &&
		    k == key)
			return p[i].value;
	}
	return NULL;
}

const cbor_item_t *
cb_map_get_str(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *p;
	size_t i, n, len = strlen(key);

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		if (cbor_isa_string(p[i].key) &&
		    cbor_string_is_definite(p[i].key) &&
		    cbor_string_length(p[i].key) == len &&
		    memcmp(cbor_string_handle(p[i].key), key, len) == 0)
			return p[i].value;
	}
	return NULL;
}

int
cb_get_uint(const cbor_item_t *item, uint64_t *v)
{
	if (item == NULL || !cbor_isa_uint(item))
		return -1;
	*v = cbor_get_int(item);
	return 0;
}

int
cb_get_int(const cbor_item_t *item, int64_t *v)
{
	uint64_t u;

	if (item == NULL)
		return -1;
	if (!cbor_isa_uint(item) && !cbor_isa_negint(item))
		return -1;
	u = cbor_get_int(item);
	if (u > INT64_MAX)
		return -1;
	*v = cbor_isa_uint(item) ? (int64_t)u : -1 - (int64_t)u;
	return 0;
}

int
cb_get_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len)
{
	if (item == NULL || !cbor_isa_bytestring(item) ||
	    !cbor_bytestring_is_definite(item))
		return -1;
	*p = cbor_bytestring_handle(item);
	*len = cbor_bytestring_length(item);
	if (*p == NULL)
		*p = (const uint8_t *)"";
	return 0;
}

/* A NUL-terminated copy; embedded NULs are refused. */
int
cb_get_text(const cbor_item_t *item, char **out)
{
	const unsigned char *p;
	size_t len;
	char *s;

	*out = NULL;
	if (item == NULL || !cbor_isa_string(item) ||
	    !cbor_string_is_definite(item))
		return -1;
	p = cbor_string_handle(item);
	len = cbor_string_length(item);
	if (len > 0 && memchr(p, 0, len) != NULL)
		return -1;
	if ((s = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	*out = s;
	return 0;
}

int
cb_get_bool(const cbor_item_t *item, int *v)
{
	if (item == NULL || !cbor_isa_float_ctrl(item) ||
	    !cbor_is_bool(item))
		return -1;
	*v = cbor_get_bool(item) ? 1 : 0;
	return 0;
}

static cbor_item_t *
cb_uint(uint64_t v)
{
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

cbor_item_t *
cb_int(int64_t v)
{
	cbor_item_t *item;
	uint64_t n;

	if (v >= 0)
		return cb_uint((uint64_t)v);
	n = (uint64_t)(-(v + 1));
	if ((item = cb_uint(n)) == NULL)
		return NULL;
	cbor_mark_negint(item);
	return item;
}

cbor_item_t *
cb_bytes(const void *p, size_t len)
{
	return cbor_build_bytestring(len ? p : (const void *)"", len);
}

cbor_item_t *
cb_text(const char *s)
{
	return cbor_build_stringn(s, strlen(s));
}

cbor_item_t *
cb_bool(int v)
{
	return cbor_build_bool(v != 0);
}

/* Adds key -> value, consuming both references (also on failure). */
int
cb_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	int r = -1;

	if (map == NULL || key == NULL || value == NULL)
		goto out;
	if (!cbor_map_add(map, (struct cbor_pair){ .key = key,
	    .value = value }))
		goto out;
	r = 0;
out:
	if (key != NULL)
		cbor_decref(&key);
	if (value != NULL)
		cbor_decref(&value);
	return r;
}

int
cb_put_int(cbor_item_t *map, uint64_t key, cbor_item_t *value)
{
	return cb_put(map, cb_uint(key), value);
}

int
cb_put_str(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	return cb_put(map, cb_text(key), value);
}

int
cb_push(cbor_item_t *array, cbor_item_t *value)
{
	int r = -1;

	if (array != NULL && value != NULL && cbor_array_push(array, value))
		r = 0;
	if (value != NULL)
		cbor_decref(&value);
	return r;
}

struct enc_pair {
	unsigned char	*key;
	size_t		 key_len;
	struct cbor_pair pair;
};

static int
enc_pair_cmp(const void *a, const void *b)
{
	const struct enc_pair *x = a, *y = b;

	/*
	 * CTAP2 canonical order (also python-fido2's): initial byte (major
	 * type first), then shorter encoding first, then bytewise.
	 */
	if (x->key[0] != y->key[0])
		return x->key[0] < y->key[0] ? -1 : 1;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

static int
canonicalize(cbor_item_t *item, int depth)
{
	struct enc_pair *ep = NULL;
	struct cbor_pair *p;
	cbor_item_t **a;
	size_t i, n, sz;
	int r = -1;

	if (depth > 16)
		goto out;
	if (cbor_isa_array(item)) {
		a = cbor_array_handle(item);
		n = cbor_array_size(item);
		for (i = 0; i < n; i++)
			if (canonicalize(a[i], depth + 1) < 0)
				goto out;
	} else if (cbor_isa_map(item)) {
		p = cbor_map_handle(item);
		n = cbor_map_size(item);
		if (n == 0) {
			r = 0;
			goto out;
		}
		if ((ep = calloc(n, sizeof(*ep))) == NULL)
			goto out;
		for (i = 0; i < n; i++) {
			if (canonicalize(p[i].value, depth + 1) < 0)
				goto out;
			ep[i].key_len = cbor_serialize_alloc(p[i].key,
			    &ep[i].key, &sz);
			if (ep[i].key_len == 0)
				goto out;
			ep[i].pair = p[i];
		}
		qsort(ep, n, sizeof(*ep), enc_pair_cmp);
		for (i = 0; i < n; i++)
			p[i] = ep[i].pair;
	}
	r = 0;
out:
	if (ep != NULL) {
		for (i = 0; i < n; i++)
			free(ep[i].key);
		free(ep);
	}
	return r;
}

/* Canonicalizes and serializes item; *out is malloc'd. */
int
cb_encode(cbor_item_t *item, uint8_t **out, size_t *out_len)
{
	unsigned char *buf = NULL;
	size_t sz, len;

	*out = NULL;
	*out_len = 0;
	if (item == NULL || canonicalize(item, 0) < 0)
		return -1;
	if ((len = cbor_serialize_alloc(item, &buf, &sz)) == 0)
		return -1;
	*out = buf;
	*out_len = len;
	return 0;
}

static void
wipe_item(cbor_item_t *item, int depth)
{
	struct cbor_pair *p;
	size_t i, n;

	if (item == NULL || depth > 16)
		return;
	if (cbor_isa_bytestring(item) && cbor_bytestring_is_definite(item) &&
	    cbor_bytestring_handle(item) != NULL)
		OPENSSL_cleanse(cbor_bytestring_handle(item),
		    cbor_bytestring_length(item));
	else if (cbor_isa_array(item)) {
		n = cbor_array_size(item);
		for (i = 0; i < n; i++)
			wipe_item(cbor_array_handle(item)[i], depth + 1);
	} else if (cbor_isa_map(item)) {
		p = cbor_map_handle(item);
		n = cbor_map_size(item);
		for (i = 0; i < n; i++)
			wipe_item(p[i].value, depth + 1);
	}
}

/* Wipes every byte string in item (keys, secrets), then releases it. */
void
cb_free_wipe(cbor_item_t **item)
{
	if (item == NULL || *item == NULL)
		return;
	if (cbor_refcount(*item) == 1)
		wipe_item(*item, 0);
	cbor_decref(item);
}

/*
 * Serializes item as parsed: libcbor keeps the integer widths and the key
 * order it decoded, so a definite-length item comes out byte for byte as
 * it came in (what pinUvAuthParam over subCommandParams needs).
 */
int
cb_serialize(const cbor_item_t *item, uint8_t **out, size_t *out_len)
{
	unsigned char *buf = NULL;
	size_t sz, len;

	*out = NULL;
	*out_len = 0;
	if ((len = cbor_serialize_alloc(item, &buf, &sz)) == 0)
		return -1;
	*out = buf;
	*out_len = len;
	return 0;
}

/*
 * Checks one definite-length item at p[*off] without allocating: every
 * declared length must fit in the bytes that are left.  libcbor 0.8 trusts
 * declared array/map sizes and allocates for them before reading the
 * items, so a 5-byte header could ask for gigabytes.
 */
static int
cb_check(const uint8_t *p, size_t len, size_t *off, int depth)
{
	uint8_t ib, major, ai;
	uint64_t v = 0;
	size_t i, n, left;

	if (depth > 16 || *off >= len)
		return -1;
	ib = p[(*off)++];
	major = ib >> 5;
	ai = ib & 0x1f;
	if (ai < 24)
		v = ai;
	else if (ai <= 27) {
		n = (size_t)1 << (ai - 24);
		if (len - *off < n)
			return -1;
		for (i = 0; i < n; i++)
			v = v << 8 | p[(*off)++];
	} else
		return -1;	/* reserved, or indefinite length */
	left = len - *off;
	switch (major) {
	case 0:
	case 1:
	case 7:
		return 0;
	case 2:
	case 3:
		if (v > left)
			return -1;
		*off += (size_t)v;
		return 0;
	case 4:
	case 5:
		if (v > left || (major == 5 && v > left / 2))
			return -1;
		n = (size_t)v * (major == 5 ? 2 : 1);
		for (i = 0; i < n; i++)
			if (cb_check(p, len, off, depth + 1) < 0)
				return -1;
		return 0;
	default:	/* 6: tag */
		return cb_check(p, len, off, depth + 1);
	}
}

/* Parses exactly one item spanning the whole buffer. */
int
cb_parse(const uint8_t *p, size_t len, cbor_item_t **out)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	size_t off = 0;

	*out = NULL;
	if (len == 0 || cb_check(p, len, &off, 0) < 0 || off != len)
		return -1;
	item = cbor_load(p, len, &res);
	if (item == NULL)
		return -1;
	if (res.error.code != CBOR_ERR_NONE || res.read != len) {
		cbor_decref(&item);
		return -1;
	}
	*out = item;
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The parts of a CTAP2 authenticatorGetInfo reply ykssh acts on, read from
 * the reply libfido2's fido_dev_open() already fetched (the report I/O
 * captures it), so knowing the token costs no extra command.
 *
 * The reply comes from the device: it is parsed with libcbor after a walk
 * that checks every declared length against the bytes present (libcbor 0.8
 * would otherwise try to allocate what a length claims).
 */
#include <string.h>

#include <cbor.h>

#include "fido-io.h"

#define MAX_DEPTH	8

/* Returns the offset after one well-formed item, or 0 on error. */
static size_t
walk(const uint8_t *p, size_t len, size_t off, int depth)
{
	uint8_t ib, major, info;
	uint64_t arg = 0, i, n;
	size_t extra;

	if (off >= len || depth > MAX_DEPTH)
		return 0;
	ib = p[off++];
	major = ib >> 5;
	info = ib & 0x1f;
	if (info < 24)
		arg = info;
	else if (info <= 27) {
		extra = (size_t)1 << (info - 24);
		if (len - off < extra)
			return 0;
		for (i = 0; i < extra; i++)
			arg = (arg << 8) | p[off + i];
		off += extra;
	} else
		return 0;	/* indefinite lengths: not from a token */
	switch (major) {
	case 0:
	case 1:
		return off;
	case 2:
	case 3:
		if (arg > len - off)
			return 0;
		return off + (size_t)arg;
	case 4:
	case 5:
		n = major == 5 ? 2 : 1;
		/* Each item takes at least one byte. */
		if (arg > (len - off) / n)
			return 0;
		for (i = 0; i < arg * n; i++)
			if ((off = walk(p, len, off, depth + 1)) == 0)
				return 0;
		return off;
	case 6:
		return walk(p, len, off, depth + 1);
	case 7:
		return info <= 27 ? off : 0;
	default:
		return 0;
	}
}

static int
text_is(const cbor_item_t *item, const char *s)
{
	size_t n = strlen(s);

	return cbor_isa_string(item) && cbor_string_is_definite(item) &&
	    cbor_string_length(item) == n &&
	    memcmp(cbor_string_handle(item), s, n) == 0;
}

static int
uint_key(const cbor_item_t *item, uint64_t *k)
{
	if (!cbor_isa_uint(item))
		return 0;
	*k = cbor_get_int(item);
	return 1;
}

/*
 * libcbor 0.8's cbor_is_bool() asserts that a float/ctrl item is a simple
 * value: a float (0xf9..0xfb) from a device would abort us.  Ask only
 * about simple values.
 */
static int
get_bool(const cbor_item_t *v, int *b)
{
	if (!cbor_isa_float_ctrl(v) || cbor_float_get_width(v) !=
	    CBOR_FLOAT_0 || !cbor_is_bool(v))
		return 0;
	*b = cbor_get_bool(v);
	return 1;
}

static void
read_options(const cbor_item_t *map, struct ykssh_fido_info *fi)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t i;

	for (i = 0; i < cbor_map_size(map); i++) {
		int b;

		if (!get_bool(pairs[i].value, &b))
			continue;
		if (text_is(pairs[i].key, "makeCredUvNotRqd"))
			fi->make_cred_uv_not_rqd = b;
		else if (text_is(pairs[i].key, "clientPin"))
			fi->client_pin = b ? 1 : 0;
		else if (text_is(pairs[i].key, "alwaysUv"))
			fi->always_uv = b;
	}
}

static void
read_algorithms(const cbor_item_t *arr, struct ykssh_fido_info *fi)
{
	cbor_item_t **items = cbor_array_handle(arr);
	size_t i, j;

	fi->algorithms_listed = 1;
	for (i = 0; i < cbor_array_size(arr); i++) {
		struct cbor_pair *pairs;

		if (!cbor_isa_map(items[i]))
			continue;
		pairs = cbor_map_handle(items[i]);
		for (j = 0; j < cbor_map_size(items[i]); j++) {
			const cbor_item_t *v = pairs[j].value;
			int64_t alg;

			if (!text_is(pairs[j].key, "alg") ||
			    !cbor_isa_negint(v))
				continue;
			alg = -1 - (int64_t)cbor_get_int(v);
			if (alg == -8)
				fi->eddsa = 1;
			else if (alg == -7)
				fi->es256 = 1;
		}
	}
}

int
ykssh_fido_info_parse(const uint8_t *reply, size_t len,
    struct ykssh_fido_info *fi)
{
	struct cbor_load_result res;
	struct cbor_pair *pairs;
	cbor_item_t *map = NULL;
	uint64_t k;
	size_t i;
	int r = -1;

	memset(fi, 0, sizeof(*fi));
	fi->client_pin = -1;
	/* status byte 0x00, then exactly one CBOR map */
	if (len < 2 || reply[0] != 0x00 ||
	    walk(reply, len, 1, 0) != len)
		return -1;
	if ((map = cbor_load(reply + 1, len - 1, &res)) == NULL ||
	    !cbor_isa_map(map) || !cbor_map_is_definite(map))
		goto out;
	pairs = cbor_map_handle(map);
	for (i = 0; i < cbor_map_size(map); i++) {
		const cbor_item_t *v = pairs[i].value;

		if (!uint_key(pairs[i].key, &k))
			continue;
		if (k == 0x03 && cbor_isa_bytestring(v) &&
		    cbor_bytestring_is_definite(v) &&
		    cbor_bytestring_length(v) == sizeof(fi->aaguid)) {
			memcpy(fi->aaguid, cbor_bytestring_handle(v),
			    sizeof(fi->aaguid));
			fi->has_aaguid = 1;
		} else if (k == 0x04 && cbor_isa_map(v))
			read_options(v, fi);
		else if (k == 0x0a && cbor_isa_array(v))
			read_algorithms(v, fi);
		else if (k == 0x0e && cbor_isa_uint(v))
			fi->firmware = cbor_get_int(v);
	}
	fi->valid = 1;
	r = 0;
out:
	if (map != NULL)
		cbor_decref(&map);
	return r;
}

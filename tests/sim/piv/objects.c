/* SPDX-License-Identifier: BSD-2-Clause */
/* Data objects: GET DATA and PUT DATA. */

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pivsim-internal.h"

/* Discovery object as a YubiKey 5 returns it (PIN usage policy 40 00). */
static const uint8_t discovery[] = {
	0x7e, 0x12, 0x4f, 0x0b, 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00,
	0x10, 0x00, 0x01, 0x00, 0x5f, 0x2f, 0x02, 0x40, 0x00,
};

void
obj_clear(struct pivsim_obj *o)
{
	if (o->data != NULL)
		OPENSSL_clear_free(o->data, o->len);
	memset(o, 0, sizeof(*o));
}

struct pivsim_obj *
obj_find(struct pivsim *c, uint32_t id)
{
	size_t	i;

	for (i = 0; i < MAX_OBJS; i++)
		if (c->objs[i].id == id && id != 0)
			return (&c->objs[i]);
	return (NULL);
}

/* Store (len > 0) or delete (len == 0) an object; -1 when full. */
int
obj_set(struct pivsim *c, uint32_t id, const uint8_t *data, size_t len)
{
	struct pivsim_obj	*o;
	uint8_t			*copy = NULL;
	size_t			 i;

	if ((o = obj_find(c, id)) == NULL && len > 0) {
		for (i = 0; i < MAX_OBJS && o == NULL; i++)
			if (c->objs[i].id == 0)
				o = &c->objs[i];
		if (o == NULL)
			return (-1);
	}
	if (len > 0 && (copy = malloc(len)) == NULL)
		return (-1);
	if (o != NULL)
		obj_clear(o);
	if (len > 0) {
		memcpy(copy, data, len);
		o->id = id;
		o->data = copy;
		o->len = len;
	}
	c->dirty = 1;
	return (0);
}

/*
 * Object id from a 5C tag list.  Accepted: 7E (discovery), 5FC101..5FC123
 * (PIV), 5FFF00..5FFF15 (Yubico).  Returns 0 on success.
 */
static int
parse_id(const uint8_t **data, size_t *len, uint32_t *id)
{
	const uint8_t	*v;
	size_t		 vl;
	uint8_t		 tag;

	if (tlv_read(data, len, &tag, &v, &vl) != 0 || tag != 0x5c)
		return (-1);
	if (vl == 1 && v[0] == 0x7e) {
		*id = 0x7e;
		return (0);
	}
	if (vl != 3)
		return (-1);
	*id = ((uint32_t)v[0] << 16) | ((uint32_t)v[1] << 8) | v[2];
	return (obj_id_valid(*id) ? 0 : -1);
}

/* Storable objects: PIV 5FC101..5FC123 and Yubico 5FFF00..5FFF15. */
int
obj_id_valid(uint32_t id)
{
	return ((id >= 0x5fc101 && id <= 0x5fc123) ||
	    (id >= 0x5fff00 && id <= 0x5fff15));
}

uint16_t
cmd_get_data(struct pivsim *c, uint8_t p1, uint8_t p2, const uint8_t *data,
    size_t len)
{
	const struct pivsim_obj	*o;
	struct ob		 b;
	uint32_t		 id;

	if (p1 != 0x3f || p2 != 0xff)
		return (SW_INCORRECT_P1P2);
	if (parse_id(&data, &len, &id) != 0 || len != 0)
		return (SW_WRONG_DATA);
	ob_init(&b, c->out, sizeof(c->out));
	if (id == 0x7e) {
		ob_put(&b, discovery, sizeof(discovery));
	} else {
		if (id == OBJ_ID_PRINTED && !c->pin_ok)
			return (SW_SECURITY);
		if ((o = obj_find(c, id)) == NULL)
			return (SW_NOT_FOUND);
		ob_tlv(&b, 0x53, o->data, o->len);
	}
	if (b.err)
		return (SW_UNKNOWN);
	c->out_len = b.len;
	return (SW_OK);
}

/* PUT DATA: 5C <id> 53 <value>; an empty value deletes the object. */
uint16_t
cmd_put_data(struct pivsim *c, uint8_t p1, uint8_t p2, const uint8_t *data,
    size_t len)
{
	const uint8_t	*v;
	size_t		 vl;
	uint32_t	 id;
	uint8_t		 tag;

	if (!c->mgm_ok)
		return (SW_SECURITY);
	if (p1 != 0x3f || p2 != 0xff)
		return (SW_INCORRECT_P1P2);
	if (parse_id(&data, &len, &id) != 0 || id == 0x7e ||
	    tlv_read(&data, &len, &tag, &v, &vl) != 0 || tag != 0x53 ||
	    len != 0)
		return (SW_WRONG_DATA);
	if (vl > OBJ_MAX)
		return (SW_NO_SPACE);
	if (obj_set(c, id, v, vl) != 0)
		return (SW_NO_SPACE);
	return (SW_OK);
}

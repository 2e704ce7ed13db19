/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIN and PUK: VERIFY, CHANGE REFERENCE, RESET RETRY COUNTER, and the
 * Yubico SET PIN RETRIES and RESET instructions.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "pivsim-internal.h"

static const uint8_t default_pin[8] = {
	'1', '2', '3', '4', '5', '6', 0xff, 0xff,
};
static const uint8_t default_puk[8] = {
	'1', '2', '3', '4', '5', '6', '7', '8',
};

void
pin_factory(struct pivsim *c)
{
	memcpy(c->pin, default_pin, 8);
	memcpy(c->puk, default_puk, 8);
	c->pin_max = c->pin_left = 3;
	c->puk_max = c->puk_left = 3;
}

/* 6 to 8 bytes, then 0xff padding only. */
static int
format_ok(const uint8_t *p)
{
	size_t	n = 0, i;

	while (n < 8 && p[n] != 0xff)
		n++;
	for (i = n; i < 8; i++)
		if (p[i] != 0xff)
			return (0);
	return (n >= 6);
}

/*
 * Check a reference value against a counter.  Returns SW_OK on a match
 * (counter reset to max), 63Cx after a miss, 6983 when blocked.
 */
static uint16_t
check_ref(struct pivsim *c, const uint8_t *ref, uint8_t *left, uint8_t max,
    const uint8_t *given)
{
	if (*left == 0)
		return (SW_BLOCKED);
	if (CRYPTO_memcmp(ref, given, 8) != 0) {
		(*left)--;
		c->dirty = 1;
		return (SW_VERIFY_FAIL(*left));
	}
	if (*left != max) {
		*left = max;
		c->dirty = 1;
	}
	return (SW_OK);
}

uint16_t
cmd_verify(struct pivsim *c, uint8_t p1, uint8_t p2, const uint8_t *data,
    size_t len)
{
	uint16_t	sw;

	if (p2 != 0x80)
		return (SW_INCORRECT_P1P2);
	if (p1 == 0xff && len == 0) {
		/* Yubico: reset the verification state. */
		c->pin_ok = 0;
		c->pin_always_ok = 0;
		return (SW_OK);
	}
	if (p1 != 0x00)
		return (SW_INCORRECT_P1P2);
	if (len == 0) {
		if (c->pin_left == 0)
			return (SW_BLOCKED);
		return (c->pin_ok ? SW_OK : SW_VERIFY_FAIL(c->pin_left));
	}
	if (len != 8)
		return (SW_WRONG_DATA);
	sw = check_ref(c, c->pin, &c->pin_left, c->pin_max, data);
	c->pin_ok = sw == SW_OK;
	c->pin_always_ok = c->pin_ok;
	return (sw);
}

uint16_t
cmd_change_reference(struct pivsim *c, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t len)
{
	uint8_t		*ref, *left, max;
	uint16_t	 sw;

	if (p1 != 0x00)
		return (SW_INCORRECT_P1P2);
	if (p2 == 0x80) {
		ref = c->pin;
		left = &c->pin_left;
		max = c->pin_max;
	} else if (p2 == 0x81) {
		ref = c->puk;
		left = &c->puk_left;
		max = c->puk_max;
	} else
		return (SW_INCORRECT_P1P2);
	if (len != 16)
		return (SW_WRONG_DATA);
	if (*left != 0 && !format_ok(data + 8))
		return (SW_WRONG_DATA);
	if ((sw = check_ref(c, ref, left, max, data)) != SW_OK) {
		if (p2 == 0x80)
			c->pin_ok = c->pin_always_ok = 0;
		return (sw);
	}
	memcpy(ref, data + 8, 8);
	c->dirty = 1;
	return (SW_OK);
}

uint16_t
cmd_reset_retry(struct pivsim *c, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t len)
{
	uint16_t	sw;

	if (p1 != 0x00 || p2 != 0x80)
		return (SW_INCORRECT_P1P2);
	if (len != 16)
		return (SW_WRONG_DATA);
	if (c->puk_left != 0 && !format_ok(data + 8))
		return (SW_WRONG_DATA);
	if ((sw = check_ref(c, c->puk, &c->puk_left, c->puk_max, data)) !=
	    SW_OK)
		return (sw);
	memcpy(c->pin, data + 8, 8);
	c->pin_left = c->pin_max;
	c->dirty = 1;
	return (SW_OK);
}

uint16_t
cmd_set_pin_retries(struct pivsim *c, uint8_t p1, uint8_t p2)
{
	if (!c->mgm_ok || !c->pin_ok)
		return (SW_SECURITY);
	if (p1 == 0 || p2 == 0)
		return (SW_INCORRECT_P1P2);
	/* Like the token: PIN and PUK go back to their defaults. */
	pin_factory(c);
	c->pin_max = c->pin_left = p1;
	c->puk_max = c->puk_left = p2;
	c->dirty = 1;
	return (SW_OK);
}

uint16_t
cmd_reset(struct pivsim *c)
{
	size_t	i;

	if (c->pin_left != 0 || c->puk_left != 0)
		return (SW_CONDITIONS);
	/* Keys and objects go, except the attestation key and its cert. */
	for (i = 0; i < NKEYS; i++)
		if (c->keys[i].slot != SLOT_ATTEST)
			key_clear(&c->keys[i]);
	for (i = 0; i < MAX_OBJS; i++)
		if (c->objs[i].id != OBJ_ID_ATTEST_CERT)
			obj_clear(&c->objs[i]);
	pin_factory(c);
	mgmt_factory(c);
	c->pin_ok = c->pin_always_ok = c->mgm_ok = 0;
	c->dirty = 1;
	return (SW_OK);
}

int
pin_is_default(const struct pivsim *c, int puk)
{
	if (puk)
		return (CRYPTO_memcmp(c->puk, default_puk, 8) == 0);
	return (CRYPTO_memcmp(c->pin, default_pin, 8) == 0);
}

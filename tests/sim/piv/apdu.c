/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * APDU framing for the pivsim core: parsing (short and extended forms),
 * command chaining (CLA 0x10), 61xx + GET RESPONSE, SELECT, dispatch.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "pivsim-internal.h"

/* YubiKey 5 (USB) ATR; advertises T=1, which libykpiv 2.2 requires. */
static const uint8_t atr_yk5[] = {
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73,
	0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79,
	0x40,
};

static const uint8_t aid_piv[] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
};
static const uint8_t aid_mgmt[] = {
	0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17,
};
/* Application property template answered to SELECT PIV. */
static const uint8_t piv_apt[] = {
	0x61, 0x11, 0x4f, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79,
	0x07, 0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08,
};

const uint8_t *
pivsim_atr(size_t *len)
{
	*len = sizeof(atr_yk5);
	return (atr_yk5);
}

int
card_random(struct pivsim *c, uint8_t *p, size_t n)
{
	if (c->rand_cb != NULL)
		return (c->rand_cb(c->rand_arg, p, n));
	return (RAND_bytes(p, (int)n) == 1 ? 0 : -1);
}

int
slot_index(uint8_t slot)
{
	switch (slot) {
	case 0x9a:
		return (0);
	case 0x9c:
		return (1);
	case 0x9d:
		return (2);
	case 0x9e:
		return (3);
	case SLOT_ATTEST:
		return (24);
	default:
		if (slot >= 0x82 && slot <= 0x95)
			return (4 + slot - 0x82);
		return (-1);
	}
}

/*
 * Touch gate for a key or management-key operation.  Cached touch is
 * time-based and, like the token's, survives a card reset.  Returns 1
 * when the operation may proceed.
 */
int
need_touch(struct pivsim *c, uint8_t policy)
{
	uint64_t	now;
	int		ok;

	if (policy != TOUCH_ALWAYS && policy != TOUCH_CACHED)
		return (1);
	now = c->clock_cb != NULL ? c->clock_cb(c->clock_arg) : 0;
	if (policy == TOUCH_CACHED && c->touch_cached &&
	    now - c->last_touch < TOUCH_CACHE_MS)
		return (1);
	ok = c->touch_cb != NULL ? c->touch_cb(c->touch_arg) : 1;
	if (!ok) {
		c->stats.touches_failed++;
		return (0);
	}
	c->stats.touches++;
	c->touch_cached = 1;
	c->last_touch = c->clock_cb != NULL ? c->clock_cb(c->clock_arg) : 0;
	return (1);
}

static void
clear_security(struct pivsim *c)
{
	c->pin_ok = 0;
	c->pin_always_ok = 0;
	c->mgm_ok = 0;
	c->wit_kind = 0;
	OPENSSL_cleanse(c->witness, sizeof(c->witness));
}

static void
clear_output(struct pivsim *c)
{
	OPENSSL_cleanse(c->out, c->out_len);
	c->out_len = 0;
	c->out_off = 0;
}

static void
clear_chain(struct pivsim *c)
{
	OPENSSL_cleanse(c->chain, c->chain_len);
	c->chain_len = 0;
	c->chaining = 0;
}

void
pivsim_power_off(struct pivsim *c)
{
	clear_security(c);
	clear_output(c);
	clear_chain(c);
	c->applet = c->no_piv ? APPLET_NONE : APPLET_PIV;
}

void
pivsim_set_no_piv(struct pivsim *c, int on)
{
	c->no_piv = on;
	pivsim_power_off(c);
}

static uint16_t
cmd_select(struct pivsim *c, uint8_t p1, const uint8_t *data, size_t len)
{
	if (p1 != 0x04)
		return (SW_INCORRECT_P1P2);
	if (len >= 5 && len <= sizeof(aid_piv) &&
	    memcmp(data, aid_piv, len) == 0 && !c->no_piv) {
		c->applet = APPLET_PIV;
		memcpy(c->out, piv_apt, sizeof(piv_apt));
		c->out_len = sizeof(piv_apt);
		return (SW_OK);
	}
	if (len == sizeof(aid_mgmt) && memcmp(data, aid_mgmt, len) == 0) {
		/* Leaving PIV drops its security state (ykpiv relies on it). */
		clear_security(c);
		c->applet = APPLET_MGMT;
		return (SW_OK);
	}
	return (SW_NOT_FOUND);
}

static uint16_t
dispatch(struct pivsim *c, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t len)
{
	if (ins == 0xa4)
		return (cmd_select(c, p1, data, len));
	if (c->applet != APPLET_PIV)
		return (SW_INS_UNSUPPORTED);

	switch (ins) {
	case 0x20:
		return (cmd_verify(c, p1, p2, data, len));
	case 0x24:
		return (cmd_change_reference(c, p1, p2, data, len));
	case 0x2c:
		return (cmd_reset_retry(c, p1, p2, data, len));
	case 0x47:
		if (p1 != 0x00)
			return (SW_INCORRECT_P1P2);
		return (cmd_generate(c, p2, data, len));
	case 0x87:
		if (p2 == 0x9b)
			return (cmd_mgmt_auth(c, p1, data, len));
		return (cmd_key_auth(c, p1, p2, data, len));
	case 0xcb:
		return (cmd_get_data(c, p1, p2, data, len));
	case 0xdb:
		return (cmd_put_data(c, p1, p2, data, len));
	case 0xf6:
		/* MOVE KEY / DELETE KEY: firmware 5.7 and later only. */
		if (c->profile != PIVSIM_PROFILE_57)
			return (SW_INS_UNSUPPORTED);
		return (cmd_move_key(c, p1, p2));
	case 0xf7:
		return (cmd_metadata(c, p2));
	case 0xf8:
		c->out[0] = (uint8_t)(c->serial >> 24);
		c->out[1] = (uint8_t)(c->serial >> 16);
		c->out[2] = (uint8_t)(c->serial >> 8);
		c->out[3] = (uint8_t)c->serial;
		c->out_len = 4;
		return (SW_OK);
	case 0xf9:
		return (cmd_attest(c, p1));
	case 0xfa:
		return (cmd_set_pin_retries(c, p1, p2));
	case 0xfb:
		return (cmd_reset(c));
	case 0xfd:
		memcpy(c->out, c->version, 3);
		c->out_len = 3;
		return (SW_OK);
	case 0xfe:
		return (cmd_import(c, p1, p2, data, len));
	case 0xff:
		return (cmd_set_mgmt_key(c, p1, p2, data, len));
	default:
		return (SW_INS_UNSUPPORTED);
	}
}

/* Next chunk of pending output, with 61xx when more remains. */
static void
respond(struct pivsim *c, uint8_t *resp, size_t *resplen)
{
	size_t	left = c->out_len - c->out_off, n;

	n = left > 256 ? 256 : left;
	memcpy(resp, c->out + c->out_off, n);
	c->out_off += n;
	left -= n;
	if (left > 0) {
		resp[n] = 0x61;
		resp[n + 1] = left >= 256 ? 0x00 : (uint8_t)left;
	} else {
		resp[n] = 0x90;
		resp[n + 1] = 0x00;
		clear_output(c);
	}
	*resplen = n + 2;
}

static void
sw_only(uint16_t sw, uint8_t *resp, size_t *resplen)
{
	resp[0] = (uint8_t)(sw >> 8);
	resp[1] = (uint8_t)sw;
	*resplen = 2;
}

void
pivsim_transmit(struct pivsim *c, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t *resplen)
{
	const uint8_t	*data = NULL;
	size_t		 lc = 0, rest;
	uint8_t		 cla, ins, p1, p2;
	uint16_t	 sw;

	if (len < 4) {
		sw_only(SW_WRONG_LENGTH, resp, resplen);
		return;
	}
	cla = cmd[0];
	ins = cmd[1];
	p1 = cmd[2];
	p2 = cmd[3];
	c->stats.apdus++;
	c->stats.ins[ins]++;

	/* Lc/data/Le: case 1, 2, 3, 4, short or extended. */
	if (len > 5 && cmd[4] != 0) {
		lc = cmd[4];
		rest = len - 5;
		if (lc > rest || rest - lc > 1) {
			sw_only(SW_WRONG_LENGTH, resp, resplen);
			return;
		}
		data = cmd + 5;
	} else if (len == 7) {
		/* extended case 2: 00 Le Le, no data */
	} else if (len > 5) {
		if (len < 7) {
			sw_only(SW_WRONG_LENGTH, resp, resplen);
			return;
		}
		lc = ((size_t)cmd[5] << 8) | cmd[6];
		rest = len - 7;
		if (lc > rest || (rest - lc != 0 && rest - lc != 2)) {
			sw_only(SW_WRONG_LENGTH, resp, resplen);
			return;
		}
		data = cmd + 7;
	}

	if ((cla & ~0x10) != 0x00) {
		sw_only(SW_CLA_UNSUPPORTED, resp, resplen);
		return;
	}

	if (ins == 0xc0 && !(cla & 0x10)) {
		if (c->out_off < c->out_len)
			respond(c, resp, resplen);
		else
			sw_only(SW_CONDITIONS, resp, resplen);
		return;
	}
	clear_output(c);

	if (cla & 0x10) {
		if (c->chaining && (c->chain_hdr[1] != ins ||
		    c->chain_hdr[2] != p1 || c->chain_hdr[3] != p2))
			clear_chain(c);
		if (ins == 0xa4 || lc > CHAIN_MAX - c->chain_len) {
			clear_chain(c);
			sw_only(ins == 0xa4 ? SW_CHAIN_UNSUPPORTED :
			    SW_WRONG_LENGTH, resp, resplen);
			return;
		}
		c->chaining = 1;
		memcpy(c->chain_hdr, cmd, 4);
		if (lc > 0)
			memcpy(c->chain + c->chain_len, data, lc);
		c->chain_len += lc;
		sw_only(SW_OK, resp, resplen);
		return;
	}
	if (c->chaining) {
		if (c->chain_hdr[1] == ins && c->chain_hdr[2] == p1 &&
		    c->chain_hdr[3] == p2 && lc <= CHAIN_MAX - c->chain_len) {
			if (lc > 0)
				memcpy(c->chain + c->chain_len, data, lc);
			c->chain_len += lc;
			sw = dispatch(c, ins, p1, p2, c->chain, c->chain_len);
			clear_chain(c);
			goto out;
		}
		clear_chain(c);
	}
	sw = dispatch(c, ins, p1, p2, data, lc);
out:
	if (sw == SW_OK)
		respond(c, resp, resplen);
	else {
		clear_output(c);
		sw_only(sw, resp, resplen);
	}
}

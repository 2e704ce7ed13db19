/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CTAPHID framing (CTAP 2.1 §11.2): 64-byte reports, channel allocation,
 * reassembly up to 7609 bytes, one transaction at a time, KEEPALIVE while a
 * request waits for a touch, CANCEL, and the transport error codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "fidosim-internal.h"

uint64_t
now_ms(struct fidosim *tok)
{
	return tok->cfg.clock_ms(tok->cfg.arg);
}

int
rand_bytes(struct fidosim *tok, uint8_t *buf, size_t len)
{
	if (tok->cfg.rand_bytes != NULL)
		return tok->cfg.rand_bytes(tok->cfg.arg, buf, len);
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

void
freezero_str(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
emit(struct fidosim *tok, uint8_t *report)
{
	size_t i;

	if (tok->dropping)
		return;
	if (tok->corrupt_next) {
		/* Flip the payload, keep CID/CMD so the client accepts it. */
		for (i = 7; i < FIDOSIM_REPORT_LEN; i++)
			report[i] ^= 0xff;
		tok->corrupt_next = 0;
	}
	tok->stats.reports_out++;
	tok->cfg.send(tok->cfg.arg, report);
}

/* Sends a whole message as one init and up to 128 continuation packets. */
static void
send_msg(struct fidosim *tok, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len)
{
	uint8_t rep[FIDOSIM_REPORT_LEN];
	size_t off = 0, n;
	uint8_t seq = 0;

	memset(rep, 0, sizeof(rep));
	put_be32(rep, cid);
	rep[4] = (uint8_t)(0x80 | cmd);
	rep[5] = (uint8_t)(len >> 8);
	rep[6] = (uint8_t)len;
	n = len < 57 ? len : 57;
	if (n > 0)
		memcpy(rep + 7, data, n);
	off = n;
	emit(tok, rep);
	while (off < len) {
		memset(rep, 0, sizeof(rep));
		put_be32(rep, cid);
		rep[4] = seq++;
		n = len - off < 59 ? len - off : 59;
		memcpy(rep + 5, data + off, n);
		off += n;
		emit(tok, rep);
	}
}

static void
send_error(struct fidosim *tok, uint32_t cid, uint8_t code)
{
	tok->stats.hid_errors++;
	send_msg(tok, cid, HID_ERROR, &code, 1);
}

static void
send_keepalive(struct fidosim *tok, uint32_t cid, uint8_t status)
{
	tok->stats.keepalives++;
	send_msg(tok, cid, HID_KEEPALIVE, &status, 1);
}

static void
finish_cbor(struct fidosim *tok, uint32_t cid, int status, size_t resp_len)
{
	if (status == CTAP_OK && tok->bad_cbor_next && resp_len > 1) {
		/* A map header that promises more than follows. */
		tok->tx_buf[1] = 0xa5;
		resp_len = 2;
		tok->bad_cbor_next = 0;
	}
	if (status != CTAP_OK) {
		tok->tx_buf[0] = (uint8_t)status;
		resp_len = 1;
	}
	send_msg(tok, cid, HID_CBOR, tok->tx_buf, resp_len);
}

static void
run_cbor(struct fidosim *tok, uint32_t cid, const uint8_t *req, size_t len)
{
	size_t resp_len = 0;
	int status;

	tok->up_asked = 0;
	status = ctap2_dispatch(tok, req, len, tok->tx_buf, &resp_len);
	tok->up_forced = UP_NONE;
	if (status == CTAP_PENDING_UP) {
		uint64_t now = now_ms(tok);
		uint64_t wait = tok->up_timeout_ms;

		if (tok->up_mode == FIDOSIM_UP_DELAY &&
		    tok->up_delay_ms < tok->up_timeout_ms) {
			wait = tok->up_delay_ms;
			tok->busy_outcome = UP_GRANTED;
		} else
			tok->busy_outcome = UP_TIMEOUT;
		tok->busy = 1;
		tok->busy_cid = cid;
		if (req != tok->busy_buf)
			memcpy(tok->busy_buf, req, len);
		tok->busy_len = len;
		tok->busy_resolve_ms = now + wait;
		tok->busy_next_ka_ms = now + HID_KEEPALIVE_MS;
		send_keepalive(tok, cid, KEEPALIVE_UPNEEDED);
		return;
	}
	finish_cbor(tok, cid, status, resp_len);
}

static void
end_busy(struct fidosim *tok)
{
	tok->busy = 0;
	OPENSSL_cleanse(tok->busy_buf, tok->busy_len);
	tok->busy_len = 0;
}

static void
resolve_busy(struct fidosim *tok, enum up_result res)
{
	uint32_t cid = tok->busy_cid;
	size_t resp_len = 0;
	int status;

	tok->up_forced = res;
	tok->up_asked = 0;
	status = ctap2_dispatch(tok, tok->busy_buf, tok->busy_len, tok->tx_buf,
	    &resp_len);
	tok->up_forced = UP_NONE;
	end_busy(tok);
	if (status == CTAP_PENDING_UP)	/* cannot happen: UP is forced */
		status = CTAP1_ERR_OTHER;
	finish_cbor(tok, cid, status, resp_len);
}

static void
dispatch(struct fidosim *tok, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len)
{
	uint8_t caps = HID_CAP_WINK | HID_CAP_CBOR | HID_CAP_NMSG;
	uint8_t init[17];

	switch (cmd) {
	case HID_PING:
		send_msg(tok, cid, HID_PING, data, len);
		break;
	case HID_WINK:
		send_msg(tok, cid, HID_WINK, NULL, 0);
		break;
	case HID_CBOR:
		if (len == 0) {
			send_error(tok, cid, HID_ERR_INVALID_LEN);
			break;
		}
		run_cbor(tok, cid, data, len);
		break;
	case HID_INIT:
		memcpy(init, data, 8);
		if (cid == HID_BROADCAST) {
			put_be32(init + 8, tok->next_cid);
			if (++tok->next_cid == HID_BROADCAST)
				tok->next_cid = 1;
		} else
			put_be32(init + 8, cid);
		init[12] = 2;	/* CTAPHID protocol version */
		(void)token_fw(tok, &init[13], &init[14], &init[15]);
		init[16] = caps;
		send_msg(tok, cid, HID_INIT, init, sizeof(init));
		break;
	default:
		/* MSG (U2F) is not implemented: NMSG is advertised. */
		send_error(tok, cid, HID_ERR_INVALID_CMD);
		break;
	}
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
cid_allocated(struct fidosim *tok, uint32_t cid)
{
	/* CIDs are handed out upwards from 1 and never reused. */
	return cid != 0 && cid != HID_BROADCAST && cid < tok->next_cid;
}

static void
rx_abort(struct fidosim *tok)
{
	tok->rx_active = 0;
	OPENSSL_cleanse(tok->rx_buf, tok->rx_len);
	tok->rx_len = 0;
}

static void
rx_complete(struct fidosim *tok)
{
	uint32_t cid = tok->rx_cid;
	uint8_t cmd = tok->rx_cmd;
	size_t len = tok->rx_len;

	tok->rx_active = 0;
	dispatch(tok, cid, cmd, tok->rx_buf, len);
	OPENSSL_cleanse(tok->rx_buf, len);
	tok->rx_len = 0;
}

static void
feed_init(struct fidosim *tok, uint32_t cid, const uint8_t *rep)
{
	uint8_t cmd = rep[4] & 0x7f;
	size_t bcnt = (size_t)rep[5] << 8 | rep[6];
	size_t n;

	if (cid == 0) {
		send_error(tok, cid, HID_ERR_INVALID_CHANNEL);
		return;
	}
	if (cmd == HID_INIT) {
		if (cid != HID_BROADCAST && !cid_allocated(tok, cid)) {
			send_error(tok, cid, HID_ERR_INVALID_CHANNEL);
			return;
		}
		if (bcnt != 8) {
			send_error(tok, cid, HID_ERR_INVALID_LEN);
			return;
		}
		/* Resync: INIT on a channel abandons what it had going. */
		if (tok->rx_active && tok->rx_cid == cid)
			rx_abort(tok);
		if (tok->busy && tok->busy_cid == cid)
			end_busy(tok);
		dispatch(tok, cid, HID_INIT, rep + 7, 8);
		return;
	}
	if (cid == HID_BROADCAST || !cid_allocated(tok, cid)) {
		send_error(tok, cid, HID_ERR_INVALID_CHANNEL);
		return;
	}
	if (cmd == HID_CANCEL) {
		/* Never answered; the pending request replies 0x2D. */
		if (tok->busy && tok->busy_cid == cid) {
			end_busy(tok);
			tok->tx_buf[0] = CTAP2_ERR_KEEPALIVE_CANCEL;
			send_msg(tok, cid, HID_CBOR, tok->tx_buf, 1);
		}
		return;
	}
	if (tok->busy) {
		send_error(tok, cid, HID_ERR_CHANNEL_BUSY);
		return;
	}
	if (tok->rx_active) {
		if (tok->rx_cid != cid) {
			send_error(tok, cid, HID_ERR_CHANNEL_BUSY);
			return;
		}
		/* A new request before the last one was complete. */
		rx_abort(tok);
		send_error(tok, cid, HID_ERR_INVALID_SEQ);
		return;
	}
	if (bcnt > HID_MAX_PAYLOAD) {
		send_error(tok, cid, HID_ERR_INVALID_LEN);
		return;
	}
	tok->rx_active = 1;
	tok->rx_cid = cid;
	tok->rx_cmd = cmd;
	tok->rx_bcnt = bcnt;
	tok->rx_seq = 0;
	tok->rx_last_ms = now_ms(tok);
	n = bcnt < 57 ? bcnt : 57;
	memcpy(tok->rx_buf, rep + 7, n);
	tok->rx_len = n;
	if (tok->rx_len == tok->rx_bcnt)
		rx_complete(tok);
}

static void
feed_cont(struct fidosim *tok, uint32_t cid, const uint8_t *rep)
{
	size_t n;

	if (!tok->rx_active)
		return;		/* spurious continuation: ignored */
	if (cid != tok->rx_cid) {
		if (cid_allocated(tok, cid))
			send_error(tok, cid, HID_ERR_CHANNEL_BUSY);
		return;
	}
	if (rep[4] != tok->rx_seq) {
		rx_abort(tok);
		send_error(tok, cid, HID_ERR_INVALID_SEQ);
		return;
	}
	tok->rx_seq++;
	tok->rx_last_ms = now_ms(tok);
	n = tok->rx_bcnt - tok->rx_len;
	if (n > 59)
		n = 59;
	memcpy(tok->rx_buf + tok->rx_len, rep + 5, n);
	tok->rx_len += n;
	if (tok->rx_len == tok->rx_bcnt)
		rx_complete(tok);
}

void
fidosim_feed(struct fidosim *tok, const uint8_t *rep)
{
	uint32_t cid;

	if (tok->dropping)
		return;
	tok->stats.reports_in++;
	if (tok->drop_after >= 0) {
		if (tok->drop_after == 0) {
			tok->dropping = 1;	/* unplugged */
			return;
		}
		tok->drop_after--;
	}
	fidosim_tick(tok);
	cid = get_be32(rep);
	if (rep[4] & 0x80)
		feed_init(tok, cid, rep);
	else
		feed_cont(tok, cid, rep);
}

void
fidosim_tick(struct fidosim *tok)
{
	uint64_t now = now_ms(tok);

	if (tok->rx_active && now - tok->rx_last_ms >= HID_MSG_TIMEOUT_MS) {
		uint32_t cid = tok->rx_cid;

		rx_abort(tok);
		send_error(tok, cid, HID_ERR_MSG_TIMEOUT);
	}
	if (!tok->busy)
		return;
	if (now >= tok->busy_resolve_ms) {
		resolve_busy(tok, tok->busy_outcome);
		return;
	}
	if (now >= tok->busy_next_ka_ms) {
		send_keepalive(tok, tok->busy_cid, KEEPALIVE_UPNEEDED);
		tok->busy_next_ka_ms = now + HID_KEEPALIVE_MS;
	}
}

int
fidosim_next_timeout(struct fidosim *tok)
{
	uint64_t now = now_ms(tok), due = UINT64_MAX;

	if (tok->rx_active)
		due = tok->rx_last_ms + HID_MSG_TIMEOUT_MS;
	if (tok->busy) {
		if (tok->busy_next_ka_ms < due)
			due = tok->busy_next_ka_ms;
		if (tok->busy_resolve_ms < due)
			due = tok->busy_resolve_ms;
	}
	if (due == UINT64_MAX)
		return -1;
	if (due <= now)
		return 0;
	return due - now > 60000 ? 60000 : (int)(due - now);
}

/* Called by command handlers at the point where they need a touch. */
int
up_check(struct fidosim *tok)
{
	enum up_result res = UP_NONE;

	tok->up_asked = 1;
	if (tok->up_forced != UP_NONE)
		res = tok->up_forced;
	else if (tok->up_mode == FIDOSIM_UP_APPROVE)
		res = UP_GRANTED;
	else if (tok->up_mode == FIDOSIM_UP_DENY)
		res = UP_DENIED;
	else if (tok->up_mode == FIDOSIM_UP_DELAY && tok->up_delay_ms == 0)
		res = UP_GRANTED;
	switch (res) {
	case UP_GRANTED:
		tok->stats.touches++;
		return CTAP_OK;
	case UP_DENIED:
		return CTAP2_ERR_OPERATION_DENIED;
	case UP_TIMEOUT:
		return CTAP2_ERR_USER_ACTION_TIMEOUT;
	default:
		return CTAP_PENDING_UP;
	}
}

/*
 * Also applies to a request already waiting: "approve" touches now, "deny"
 * refuses now, "delay N" touches N ms from now, "never" keeps waiting.
 */
void
fidosim_set_up(struct fidosim *tok, enum fidosim_up_mode mode,
    unsigned delay_ms)
{
	uint64_t now;

	tok->up_mode = mode;
	tok->up_delay_ms = delay_ms;
	if (!tok->busy || mode == FIDOSIM_UP_NEVER)
		return;
	now = now_ms(tok);
	tok->busy_outcome = mode == FIDOSIM_UP_DENY ? UP_DENIED : UP_GRANTED;
	tok->busy_resolve_ms = now + (mode == FIDOSIM_UP_DELAY ? delay_ms : 0);
}

void
fidosim_set_up_timeout(struct fidosim *tok, unsigned timeout_ms)
{
	tok->up_timeout_ms = timeout_ms;
}

void
fidosim_powercycle(struct fidosim *tok)
{
	if (tok->busy)
		end_busy(tok);
	if (tok->rx_active)
		rx_abort(tok);
	tok->power_on_ms = now_ms(tok);
	tok->pin_consecutive_fails = 0;
	ctap2_clear_volatile(tok);
	(void)pin_token_reset(tok);
	tok->dropping = 0;
	tok->drop_after = -1;
}

void
fidosim_fault_drop_after(struct fidosim *tok, long n)
{
	tok->drop_after = n < 0 ? -1 : n;
	tok->dropping = 0;
}

void
fidosim_fault_corrupt_next(struct fidosim *tok)
{
	tok->corrupt_next = 1;
}

void
fidosim_fault_bad_cbor_next(struct fidosim *tok)
{
	tok->bad_cbor_next = 1;
}

void
fidosim_get_stats(const struct fidosim *tok, struct fidosim_stats *st)
{
	*st = tok->stats;
}

const char *
fidosim_ctap_kind_name(int kind)
{
	static const char *names[FIDOSIM_CK_COUNT] = {
		"makeCredential", "getAssertion", "getInfo", "clientPIN",
		"reset", "getNextAssertion", "credentialManagement",
		"selection", "other",
	};

	if (kind < 0 || kind >= FIDOSIM_CK_COUNT)
		return NULL;
	return names[kind];
}

int
fidosim_new(const struct fidosim_config *cfg, struct fidosim **out)
{
	struct fidosim *tok = NULL;
	int rc, r = -1;

	*out = NULL;
	if (cfg->clock_ms == NULL || cfg->send == NULL)
		return -1;
	if ((tok = calloc(1, sizeof(*tok))) == NULL)
		goto out;
	tok->cfg = *cfg;
	tok->cfg.state_path = NULL;
	tok->rk_cap = cfg->rk_capacity == 100 ? 100 : 25;
	if (cfg->rk_capacity != 0 && cfg->rk_capacity != 25 &&
	    cfg->rk_capacity != 100) {
		fprintf(stderr, "fidosim: rk capacity must be 25 or 100\n");
		goto out;
	}
	if ((tok->rks = calloc(tok->rk_cap, sizeof(*tok->rks))) == NULL)
		goto out;
	if (cfg->state_path != NULL &&
	    (tok->state_path = strdup(cfg->state_path)) == NULL)
		goto out;
	tok->next_cid = 1;
	tok->drop_after = -1;
	tok->up_mode = FIDOSIM_UP_APPROVE;
	tok->up_timeout_ms = 30000;
	if (load_attestation(tok) < 0)
		goto out;
	if ((rc = state_load(tok)) < 0)
		goto out;
	if (rc == 1) {
		/* A new token. */
		if (rand_bytes(tok, tok->secret, sizeof(tok->secret)) < 0)
			goto out;
		tok->pin_retries = PIN_MAX_RETRIES;
		if (state_save(tok) < 0)
			goto out;
	}
	tok->power_on_ms = now_ms(tok);
	if (pin_token_reset(tok) < 0)
		goto out;
	*out = tok;
	tok = NULL;	/* transferred */
	r = 0;
out:
	fidosim_free(tok);
	return r;
}

void
fidosim_free(struct fidosim *tok)
{
	unsigned i;

	if (tok == NULL)
		return;
	ctap2_clear_volatile(tok);
	if (tok->rks != NULL)
		for (i = 0; i < tok->rk_cap; i++)
			rk_clear(&tok->rks[i]);
	free(tok->rks);
	free(tok->state_path);
	EVP_PKEY_free(tok->att_key);
	OPENSSL_free(tok->att_cert);
	EVP_PKEY_free(tok->ka_key);
	freezero_str(tok->token_rp_id);
	OPENSSL_cleanse(tok, sizeof(*tok));
	free(tok);
}

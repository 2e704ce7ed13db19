/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CTAPHID framing edge cases against the fidosim core with a fake clock:
 * INIT and channel allocation, fragmentation and reassembly, bad SEQ, busy
 * channel, message timeout, invalid channel, CANCEL and KEEPALIVE while a
 * request waits for a touch, faults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fidosim-internal.h"

#define MAXREP	256

struct env {
	uint64_t	now;
	uint8_t		out[MAXREP][FIDOSIM_REPORT_LEN];
	size_t		nout;
};

static int failures;

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s: check failed: %s\n",	\
		    __FILE__, __LINE__, __func__, #c);			\
		failures++;						\
	}								\
} while (0)

static uint64_t
clk(void *arg)
{
	return ((struct env *)arg)->now;
}

static void
snd(void *arg, const uint8_t *r)
{
	struct env *e = arg;

	if (e->nout < MAXREP)
		memcpy(e->out[e->nout++], r, FIDOSIM_REPORT_LEN);
}

static struct fidosim *
new_token(struct env *e)
{
	struct fidosim_config cfg;
	struct fidosim *tok = NULL;

	memset(e, 0, sizeof(*e));
	e->now = 5000;
	memset(&cfg, 0, sizeof(cfg));
	cfg.clock_ms = clk;
	cfg.send = snd;
	cfg.arg = e;
	if (fidosim_new(&cfg, &tok) < 0) {
		fprintf(stderr, "fidosim_new failed\n");
		exit(1);
	}
	return tok;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
init_pkt(struct fidosim *tok, uint32_t cid, uint8_t cmd, size_t bcnt,
    const uint8_t *data, size_t n)
{
	uint8_t r[FIDOSIM_REPORT_LEN];

	memset(r, 0, sizeof(r));
	put32(r, cid);
	r[4] = 0x80 | cmd;
	r[5] = (uint8_t)(bcnt >> 8);
	r[6] = (uint8_t)bcnt;
	if (n > 0)
		memcpy(r + 7, data, n);
	fidosim_feed(tok, r);
}

static void
cont_pkt(struct fidosim *tok, uint32_t cid, uint8_t seq, const uint8_t *data,
    size_t n)
{
	uint8_t r[FIDOSIM_REPORT_LEN];

	memset(r, 0, sizeof(r));
	put32(r, cid);
	r[4] = seq;
	memcpy(r + 5, data, n);
	fidosim_feed(tok, r);
}

/* Sends a whole message, fragmented as a client does. */
static void
send_msg(struct fidosim *tok, uint32_t cid, uint8_t cmd, const uint8_t *d,
    size_t len)
{
	size_t off, n;
	uint8_t seq = 0;

	n = len < 57 ? len : 57;
	init_pkt(tok, cid, cmd, len, d, n);
	for (off = n; off < len; off += n) {
		n = len - off < 59 ? len - off : 59;
		cont_pkt(tok, cid, seq++, d + off, n);
	}
}

static int
is_error(const uint8_t *r, uint32_t cid, uint8_t code)
{
	return get32(r) == cid && r[4] == (0x80 | HID_ERROR) && r[5] == 0 &&
	    r[6] == 1 && r[7] == code;
}

static uint32_t
do_init(struct fidosim *tok, struct env *e)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	e->nout = 0;
	init_pkt(tok, HID_BROADCAST, HID_INIT, 8, nonce, 8);
	CHECK(e->nout == 1);
	CHECK(get32(e->out[0]) == HID_BROADCAST);
	CHECK(e->out[0][4] == (0x80 | HID_INIT));
	CHECK(e->out[0][5] == 0 && e->out[0][6] == 17);
	CHECK(memcmp(e->out[0] + 7, nonce, 8) == 0);
	CHECK(e->out[0][19] == 2);
	CHECK(e->out[0][23] == (HID_CAP_WINK | HID_CAP_CBOR | HID_CAP_NMSG));
	return get32(e->out[0] + 15);
}

static void
test_init_and_channels(void)
{
	struct env e;
	struct fidosim *tok = new_token(&e);
	uint32_t a, b;
	uint8_t nonce[8] = { 0 };

	a = do_init(tok, &e);
	b = do_init(tok, &e);
	CHECK(a != 0 && a != HID_BROADCAST && b != a);
	/* INIT on an allocated channel answers on that channel. */
	e.nout = 0;
	init_pkt(tok, a, HID_INIT, 8, nonce, 8);
	CHECK(e.nout == 1 && get32(e.out[0]) == a && get32(e.out[0] + 15) ==
	    a);
	/* INIT with a wrong length. */
	e.nout = 0;
	init_pkt(tok, HID_BROADCAST, HID_INIT, 7, nonce, 7);
	CHECK(e.nout == 1 && is_error(e.out[0], HID_BROADCAST,
	    HID_ERR_INVALID_LEN));
	/* Non-INIT on broadcast, on CID 0, on an unallocated CID. */
	e.nout = 0;
	init_pkt(tok, HID_BROADCAST, HID_PING, 0, NULL, 0);
	init_pkt(tok, 0, HID_PING, 0, NULL, 0);
	init_pkt(tok, 0x7777, HID_PING, 0, NULL, 0);
	CHECK(e.nout == 3);
	CHECK(is_error(e.out[0], HID_BROADCAST, HID_ERR_INVALID_CHANNEL));
	CHECK(is_error(e.out[1], 0, HID_ERR_INVALID_CHANNEL));
	CHECK(is_error(e.out[2], 0x7777, HID_ERR_INVALID_CHANNEL));
	/* MSG (U2F) is not implemented; unknown commands neither. */
	e.nout = 0;
	init_pkt(tok, a, HID_MSG, 0, NULL, 0);
	init_pkt(tok, a, 0x55, 0, NULL, 0);
	init_pkt(tok, a, HID_LOCK, 1, nonce, 1);
	CHECK(e.nout == 3 && is_error(e.out[0], a, HID_ERR_INVALID_CMD) &&
	    is_error(e.out[1], a, HID_ERR_INVALID_CMD) &&
	    is_error(e.out[2], a, HID_ERR_INVALID_CMD));
	/* WINK answers empty. */
	e.nout = 0;
	init_pkt(tok, a, HID_WINK, 0, NULL, 0);
	CHECK(e.nout == 1 && e.out[0][4] == (0x80 | HID_WINK) &&
	    e.out[0][6] == 0);
	/* CBOR with no payload. */
	e.nout = 0;
	init_pkt(tok, a, HID_CBOR, 0, NULL, 0);
	CHECK(e.nout == 1 && is_error(e.out[0], a, HID_ERR_INVALID_LEN));
	fidosim_free(tok);
}

static void
test_fragmented_ping(void)
{
	struct env e;
	struct fidosim *tok = new_token(&e);
	static uint8_t msg[HID_MAX_PAYLOAD], back[HID_MAX_PAYLOAD];
	size_t i, off, n;
	uint32_t cid;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	cid = do_init(tok, &e);
	e.nout = 0;
	send_msg(tok, cid, HID_PING, msg, sizeof(msg));
	/* 7609 bytes = 1 init + 128 continuation packets. */
	CHECK(e.nout == 129);
	CHECK(e.out[0][4] == (0x80 | HID_PING));
	CHECK(((size_t)e.out[0][5] << 8 | e.out[0][6]) == sizeof(msg));
	memcpy(back, e.out[0] + 7, 57);
	for (off = 57, i = 1; i < e.nout; i++, off += n) {
		CHECK(e.out[i][4] == (uint8_t)(i - 1));
		n = sizeof(msg) - off < 59 ? sizeof(msg) - off : 59;
		memcpy(back + off, e.out[i] + 5, n);
	}
	CHECK(memcmp(back, msg, sizeof(msg)) == 0);
	/* One byte more than the maximum. */
	e.nout = 0;
	init_pkt(tok, cid, HID_PING, HID_MAX_PAYLOAD + 1, msg, 57);
	CHECK(e.nout == 1 && is_error(e.out[0], cid, HID_ERR_INVALID_LEN));
	fidosim_free(tok);
}

static void
test_bad_seq_busy_timeout(void)
{
	struct env e;
	struct fidosim *tok = new_token(&e);
	uint8_t d[200];
	uint32_t a, b;

	memset(d, 0x5a, sizeof(d));
	a = do_init(tok, &e);
	b = do_init(tok, &e);
	/* Wrong SEQ aborts the message. */
	e.nout = 0;
	init_pkt(tok, a, HID_PING, 100, d, 57);
	cont_pkt(tok, a, 1, d, 43);
	CHECK(e.nout == 1 && is_error(e.out[0], a, HID_ERR_INVALID_SEQ));
	/* The channel works again afterwards. */
	e.nout = 0;
	send_msg(tok, a, HID_PING, d, 100);
	CHECK(e.nout == 2 && e.out[0][4] == (0x80 | HID_PING));
	/* Another channel during reassembly: busy; the first completes. */
	e.nout = 0;
	init_pkt(tok, a, HID_PING, 100, d, 57);
	init_pkt(tok, b, HID_PING, 1, d, 1);
	CHECK(e.nout == 1 && is_error(e.out[0], b, HID_ERR_CHANNEL_BUSY));
	cont_pkt(tok, b, 0, d, 43);
	CHECK(e.nout == 2 && is_error(e.out[1], b, HID_ERR_CHANNEL_BUSY));
	cont_pkt(tok, a, 0, d, 43);
	CHECK(e.nout == 4 && get32(e.out[2]) == a &&
	    e.out[2][4] == (0x80 | HID_PING));
	/* A new init packet on the same channel mid-message. */
	e.nout = 0;
	init_pkt(tok, a, HID_PING, 100, d, 57);
	init_pkt(tok, a, HID_PING, 1, d, 1);
	CHECK(e.nout == 1 && is_error(e.out[0], a, HID_ERR_INVALID_SEQ));
	/* Missing continuation: MSG_TIMEOUT after 800 ms, not before. */
	e.nout = 0;
	init_pkt(tok, a, HID_PING, 100, d, 57);
	e.now += 700;
	fidosim_tick(tok);
	CHECK(e.nout == 0);
	CHECK(fidosim_next_timeout(tok) == 100);
	e.now += 100;
	fidosim_tick(tok);
	CHECK(e.nout == 1 && is_error(e.out[0], a, HID_ERR_MSG_TIMEOUT));
	CHECK(fidosim_next_timeout(tok) == -1);
	/* Spurious continuation packets are ignored. */
	e.nout = 0;
	cont_pkt(tok, a, 0, d, 10);
	CHECK(e.nout == 0);
	fidosim_free(tok);
}

/* CBOR getInfo-free request that needs a touch: selection (0x0B). */
static void
test_keepalive_cancel(void)
{
	struct env e;
	struct fidosim *tok = new_token(&e);
	uint8_t sel = 0x0b, nonce[8] = { 9 };
	uint32_t a, b;
	size_t i, ka = 0;

	a = do_init(tok, &e);
	b = do_init(tok, &e);
	/* Delayed touch: KEEPALIVE(UPNEEDED) every 100 ms, then OK. */
	fidosim_set_up(tok, FIDOSIM_UP_DELAY, 450);
	e.nout = 0;
	send_msg(tok, a, HID_CBOR, &sel, 1);
	for (i = 0; i < 10; i++) {
		e.now += 50;
		fidosim_tick(tok);
	}
	for (i = 0; i < e.nout; i++)
		if (e.out[i][4] == (0x80 | HID_KEEPALIVE)) {
			CHECK(e.out[i][7] == KEEPALIVE_UPNEEDED);
			ka++;
		}
	CHECK(ka >= 4 && ka <= 6);
	CHECK(e.nout == ka + 1);
	CHECK(e.out[e.nout - 1][4] == (0x80 | HID_CBOR) &&
	    e.out[e.nout - 1][6] == 1 && e.out[e.nout - 1][7] == 0);
	/* Busy: another channel gets CHANNEL_BUSY; CANCEL gives 0x2D. */
	fidosim_set_up(tok, FIDOSIM_UP_NEVER, 0);
	e.nout = 0;
	send_msg(tok, a, HID_CBOR, &sel, 1);
	CHECK(e.nout == 1 && e.out[0][4] == (0x80 | HID_KEEPALIVE));
	send_msg(tok, b, HID_PING, nonce, 1);
	CHECK(e.nout == 2 && is_error(e.out[1], b, HID_ERR_CHANNEL_BUSY));
	/* CANCEL on another channel does nothing. */
	init_pkt(tok, b, HID_CANCEL, 0, NULL, 0);
	CHECK(e.nout == 2);
	init_pkt(tok, a, HID_CANCEL, 0, NULL, 0);
	CHECK(e.nout == 3 && e.out[2][4] == (0x80 | HID_CBOR) &&
	    e.out[2][6] == 1 && e.out[2][7] == CTAP2_ERR_KEEPALIVE_CANCEL);
	/* CANCEL with nothing pending: no answer. */
	init_pkt(tok, a, HID_CANCEL, 0, NULL, 0);
	CHECK(e.nout == 3);
	/* Never: USER_ACTION_TIMEOUT after the UP timeout. */
	fidosim_set_up_timeout(tok, 1000);
	e.nout = 0;
	send_msg(tok, a, HID_CBOR, &sel, 1);
	e.now += 999;
	fidosim_tick(tok);
	CHECK(e.out[e.nout - 1][4] == (0x80 | HID_KEEPALIVE));
	e.now += 1;
	fidosim_tick(tok);
	CHECK(e.out[e.nout - 1][4] == (0x80 | HID_CBOR) &&
	    e.out[e.nout - 1][7] == CTAP2_ERR_USER_ACTION_TIMEOUT);
	/* Deny: OPERATION_DENIED at once. */
	fidosim_set_up(tok, FIDOSIM_UP_DENY, 0);
	e.nout = 0;
	send_msg(tok, a, HID_CBOR, &sel, 1);
	CHECK(e.nout == 1 && e.out[0][7] == CTAP2_ERR_OPERATION_DENIED);
	/* INIT resync on the busy channel drops the request silently. */
	fidosim_set_up(tok, FIDOSIM_UP_NEVER, 0);
	e.nout = 0;
	send_msg(tok, a, HID_CBOR, &sel, 1);
	init_pkt(tok, a, HID_INIT, 8, nonce, 8);
	CHECK(e.nout == 2 && e.out[1][4] == (0x80 | HID_INIT));
	CHECK(fidosim_next_timeout(tok) == -1);
	fidosim_free(tok);
}

static void
test_faults(void)
{
	struct env e;
	struct fidosim *tok = new_token(&e);
	uint8_t d[4] = { 1, 2, 3, 4 }, info = 0x04;
	uint32_t a;
	struct fidosim_stats st;

	a = do_init(tok, &e);
	/* corrupt-next: the payload of the next report is inverted. */
	fidosim_fault_corrupt_next(tok);
	e.nout = 0;
	send_msg(tok, a, HID_PING, d, 4);
	CHECK(e.nout == 1 && e.out[0][7] == (uint8_t)~1);
	/* bad-cbor-next: status OK with a truncated map. */
	fidosim_fault_bad_cbor_next(tok);
	e.nout = 0;
	send_msg(tok, a, HID_CBOR, &info, 1);
	CHECK(e.nout == 1 && e.out[0][6] == 2 && e.out[0][7] == 0 &&
	    e.out[0][8] == 0xa5);
	/* drop-after 1: one more report is answered, then silence. */
	fidosim_fault_drop_after(tok, 1);
	e.nout = 0;
	send_msg(tok, a, HID_PING, d, 4);
	send_msg(tok, a, HID_PING, d, 4);
	CHECK(e.nout == 1);
	fidosim_powercycle(tok);
	send_msg(tok, a, HID_PING, d, 4);
	CHECK(e.nout == 2);
	fidosim_get_stats(tok, &st);
	CHECK(st.ctap[FIDOSIM_CK_GET_INFO] == 1);
	CHECK(st.reports_out >= 4);
	fidosim_free(tok);
}

/* First CBOR status byte answered to one request. */
static int
cbor_status(struct fidosim *tok, struct env *e, uint32_t cid,
    const uint8_t *req, size_t len)
{
	e->nout = 0;
	send_msg(tok, cid, HID_CBOR, req, len);
	if (e->nout == 0 || e->out[0][4] != (0x80 | HID_CBOR))
		return -1;
	return e->out[0][7];
}

static void
test_cbor_errors(void)
{
	struct env e;
	struct fidosim *tok = new_token(&e);
	static uint8_t big[CTAP_MAX_MSG_SIZE + 1];
	/* makeCredential whose map declares 2^32 entries (libcbor OOM). */
	static const uint8_t huge[] = { 0x01, 0xba, 0x63, 0x61, 0x6c, 0x67,
	    0xa0 };
	static const uint8_t trunc[] = { 0x01, 0xa5, 0x01 };
	static const uint8_t notmap[] = { 0x02, 0x80 };
	static const uint8_t indef[] = { 0x06, 0xbf, 0x01, 0x01, 0xff };
	static const uint8_t unknown[] = { 0x42 };
	static const uint8_t nomap[] = { 0x01 };
	static const uint8_t badsub[] = { 0x06, 0xa2, 0x01, 0x01, 0x02, 0x08 };
	uint32_t a;

	a = do_init(tok, &e);
	big[0] = 0x04;
	CHECK(cbor_status(tok, &e, a, big, sizeof(big)) ==
	    CTAP2_ERR_REQUEST_TOO_LARGE);
	CHECK(cbor_status(tok, &e, a, huge, sizeof(huge)) ==
	    CTAP2_ERR_INVALID_CBOR);
	CHECK(cbor_status(tok, &e, a, trunc, sizeof(trunc)) ==
	    CTAP2_ERR_INVALID_CBOR);
	CHECK(cbor_status(tok, &e, a, notmap, sizeof(notmap)) ==
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	CHECK(cbor_status(tok, &e, a, indef, sizeof(indef)) ==
	    CTAP2_ERR_INVALID_CBOR);
	CHECK(cbor_status(tok, &e, a, unknown, sizeof(unknown)) ==
	    CTAP1_ERR_INVALID_COMMAND);
	CHECK(cbor_status(tok, &e, a, nomap, sizeof(nomap)) ==
	    CTAP2_ERR_MISSING_PARAMETER);
	CHECK(cbor_status(tok, &e, a, badsub, sizeof(badsub)) ==
	    CTAP2_ERR_INVALID_SUBCOMMAND);
	/* getNextAssertion with nothing to continue. */
	CHECK(cbor_status(tok, &e, a, (const uint8_t *)"\x08", 1) ==
	    CTAP2_ERR_NOT_ALLOWED);
	fidosim_free(tok);
}

int
main(void)
{
	test_init_and_channels();
	test_fragmented_ping();
	test_bad_seq_busy_timeout();
	test_keepalive_cancel();
	test_faults();
	test_cbor_errors();
	if (failures != 0) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("all CTAPHID checks passed\n");
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for the fidosim core: CTAPHID framing and every CTAP2
 * request parser behind it.
 *
 * Input layout (structured, so CBOR requests get deep coverage):
 *	byte 0: user presence mode (low 2 bits: approve, delay, deny, never)
 *	byte 1: flags: 0x01 no EdDSA, 0x02 100 rk slots, 0x04 a PIN is set
 *	        ("1234") and a known pinUvAuthToken (32 x 0x11) with
 *	        permissions mc|ga|cm is live, so authenticated paths run;
 *	        0x08 --ctap21-pre profile, 0x10 makeCredUvNotRqd
 *	then 64-byte reports, each fed to the core; the fake clock moves 37 ms
 *	after each report, and at the end it runs on until pending work ends.
 * Time and randomness are fake: a run depends only on its input (except
 * the key-agreement key and ECDSA nonces, which come from OpenSSL).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

struct fuzz_env {
	uint64_t	now;
	uint64_t	rng;
	size_t		sent;
};

static uint64_t
fake_clock(void *arg)
{
	return ((struct fuzz_env *)arg)->now;
}

static void
fake_send(void *arg, const uint8_t *report)
{
	struct fuzz_env *env = arg;

	env->sent += report[0] ^ report[63];	/* touch the bytes */
}

static int
fake_rand(void *arg, uint8_t *buf, size_t len)
{
	struct fuzz_env *env = arg;
	size_t i;

	for (i = 0; i < len; i++) {
		env->rng ^= env->rng << 13;
		env->rng ^= env->rng >> 7;
		env->rng ^= env->rng << 17;
		buf[i] = (uint8_t)env->rng;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fidosim_config cfg;
	struct fuzz_env env;
	struct fidosim *tok = NULL;
	uint8_t rep[FIDOSIM_REPORT_LEN], flags;
	size_t off;
	int i;

	if (size < 2)
		return 0;
	memset(&env, 0, sizeof(env));
	env.now = 1000;
	env.rng = 0x9e3779b97f4a7c15ULL;
	flags = data[1];
	memset(&cfg, 0, sizeof(cfg));
	cfg.clock_ms = fake_clock;
	cfg.send = fake_send;
	cfg.rand_bytes = fake_rand;
	cfg.arg = &env;
	cfg.no_persist = 1;
	cfg.no_eddsa = flags & 0x01;
	cfg.rk_capacity = (flags & 0x02) ? 100 : 25;
	cfg.ctap21_pre = (flags & 0x08) != 0;
	cfg.mc_uv_not_rqd = (flags & 0x10) != 0;
	if (fidosim_new(&cfg, &tok) < 0)
		return 0;
	fidosim_set_up(tok, (enum fidosim_up_mode)(data[0] & 3), 250);
	fidosim_set_up_timeout(tok, 1000);
	if (flags & 0x04) {
		tok->pin_set = 1;
		(void)sha256("1234", 4, tok->pin_hash);
		memset(tok->pin_token, 0x11, sizeof(tok->pin_token));
		tok->token_valid = 1;
		tok->token_perms = PERM_MC | PERM_GA | PERM_CM;
	}
	for (off = 2; off < size; off += FIDOSIM_REPORT_LEN) {
		memset(rep, 0, sizeof(rep));
		memcpy(rep, data + off, size - off < sizeof(rep) ?
		    size - off : sizeof(rep));
		fidosim_feed(tok, rep);
		env.now += 37;
		fidosim_tick(tok);
	}
	/* Let pending touches and message timeouts play out. */
	for (i = 0; i < 64 && fidosim_next_timeout(tok) >= 0; i++) {
		env.now += 100;
		fidosim_tick(tok);
	}
	fidosim_free(tok);
	return 0;
}

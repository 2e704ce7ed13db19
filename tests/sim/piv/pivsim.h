/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pivsim: a software YubiKey PIV applet for tests.
 *
 * The core is a pure "command APDU in, response APDU out" machine with
 * persistent state that can be serialized to memory.  It does no socket
 * and no file I/O; time and touch come from host callbacks so that the
 * fuzzer can run it without a wall clock.
 *
 *	pivsim_new() or pivsim_load()
 *	  -> pivsim_transmit() ... (pivsim_power_off() on reset/power off)
 *	  -> pivsim_save() whenever pivsim_dirty()
 *	  -> pivsim_free()
 */
#ifndef PIVSIM_H
#define PIVSIM_H

#include <stddef.h>
#include <stdint.h>

/* Largest response APDU pivsim_transmit() writes: 256 data bytes + SW. */
#define PIVSIM_RESP_MAX		258

enum pivsim_profile {
	PIVSIM_PROFILE_54 = 0,	/* fw 5.4.3, 3DES factory management key */
	PIVSIM_PROFILE_57 = 1,	/* fw 5.7.2, AES-192 factory management key */
};

/* Returns 1 when the user touched, 0 when the touch was denied/timed out. */
typedef int pivsim_touch_cb(void *arg);
/* Monotonic milliseconds. */
typedef uint64_t pivsim_clock_cb(void *arg);

struct pivsim_stats {
	uint32_t	ins[256];	/* command APDUs per INS */
	uint32_t	apdus;
	uint32_t	touches;	/* touches consumed (approved) */
	uint32_t	touches_failed;	/* denied or timed out */
};

struct pivsim;

/* Factory-fresh card with a new attestation CA; NULL on failure. */
struct pivsim	*pivsim_new(enum pivsim_profile, uint32_t serial);
/* Card from pivsim_save() output; NULL if the blob is invalid. */
struct pivsim	*pivsim_load(const uint8_t *, size_t);
/* Serialized persistent state, caller frees with pivsim_freezero(). */
int		 pivsim_save(const struct pivsim *, uint8_t **, size_t *);
void		 pivsim_free(struct pivsim *);
void		 pivsim_freezero(void *, size_t);

void		 pivsim_set_touch_cb(struct pivsim *, pivsim_touch_cb *,
		    void *);
void		 pivsim_set_clock_cb(struct pivsim *, pivsim_clock_cb *,
		    void *);
/* Random bytes for witnesses/challenges; returns 0 on success. */
typedef int pivsim_rand_cb(void *arg, uint8_t *, size_t);
/* Deterministic randomness for the fuzzer (default: OpenSSL RAND). */
void		 pivsim_set_rand_cb(struct pivsim *, pivsim_rand_cb *, void *);
/* Use these RSA keys (EVP_PKEY *, referenced) instead of generating:
 * fuzzing speed.  Either may be NULL. */
void		 pivsim_set_rsa_pool(struct pivsim *, void *, void *);

/* A card without the PIV applet (SELECT PIV answers 6A82). */
void		 pivsim_set_no_piv(struct pivsim *, int);

/* POWER OFF / RESET: clears PIN and management-key state, chaining. */
void		 pivsim_power_off(struct pivsim *);
const uint8_t	*pivsim_atr(size_t *);

/*
 * Process one command APDU.  resp must hold PIVSIM_RESP_MAX bytes;
 * *resplen receives the response length (always >= 2, ends in SW1 SW2).
 */
void		 pivsim_transmit(struct pivsim *, const uint8_t *, size_t,
		    uint8_t *, size_t *);

/* Persistent state changed since the last pivsim_clear_dirty(). */
int		 pivsim_dirty(const struct pivsim *);
void		 pivsim_clear_dirty(struct pivsim *);

const struct pivsim_stats *pivsim_stats(const struct pivsim *);
/* DER of the test attestation root CA (the "Yubico PIV root" stand-in). */
const uint8_t	*pivsim_ca_cert(const struct pivsim *, size_t *);
enum pivsim_profile pivsim_profile(const struct pivsim *);

#endif /* PIVSIM_H */

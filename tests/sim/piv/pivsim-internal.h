/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by the pivsim core files. */
#ifndef PIVSIM_INTERNAL_H
#define PIVSIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "pivsim.h"

/* Status words. */
#define SW_OK			0x9000
#define SW_WRONG_LENGTH		0x6700
#define SW_CHAIN_UNSUPPORTED	0x6884
#define SW_SECURITY		0x6982
#define SW_BLOCKED		0x6983
#define SW_CONDITIONS		0x6985
#define SW_WRONG_DATA		0x6A80
#define SW_NOT_FOUND		0x6A82
#define SW_NO_SPACE		0x6A84
#define SW_INCORRECT_P1P2	0x6A86
#define SW_REF_NOT_FOUND	0x6A88
#define SW_WRONG_P1P2		0x6B00
#define SW_INS_UNSUPPORTED	0x6D00
#define SW_CLA_UNSUPPORTED	0x6E00
#define SW_UNKNOWN		0x6F00
#define SW_VERIFY_FAIL(n)	(0x63C0 | ((n) > 15 ? 15 : (n)))

/* Algorithms (key slots and management key). */
#define ALG_3DES		0x03
#define ALG_RSA1024		0x06
#define ALG_RSA2048		0x07
#define ALG_AES128		0x08
#define ALG_AES192		0x0A
#define ALG_AES256		0x0C
#define ALG_ECCP256		0x11
#define ALG_ECCP384		0x14
#define ALG_ED25519		0xE0

/* Policies as stored (resolved: never 00 "default" after generation). */
#define PIN_NEVER		0x01
#define PIN_ONCE		0x02
#define PIN_ALWAYS		0x03
#define TOUCH_NEVER		0x01
#define TOUCH_ALWAYS		0x02
#define TOUCH_CACHED		0x03
#define TOUCH_CACHE_MS		15000

#define ORIGIN_GENERATED	0x01
#define ORIGIN_IMPORTED		0x02

#define SLOT_ATTEST		0xF9
#define NKEYS			25	/* 9a 9c 9d 9e 82..95 f9 */
#define MAX_OBJS		64
#define OBJ_MAX			3063	/* largest object value (libykpiv) */
#define OBJ_ID_ATTEST_CERT	0x5FFF01
#define OBJ_ID_PRINTED		0x5FC109
#define OUT_MAX			8192
#define CHAIN_MAX		8192

#define APPLET_NONE		0
#define APPLET_PIV		1
#define APPLET_MGMT		2

struct pivsim_key {
	uint8_t		 slot;		/* 0 when empty */
	uint8_t		 alg;
	uint8_t		 pin_policy;
	uint8_t		 touch_policy;
	uint8_t		 origin;
	EVP_PKEY	*pkey;
};

struct pivsim_obj {
	uint32_t	 id;		/* 0 when empty */
	uint8_t		*data;
	size_t		 len;
};

/* Output builder; sets err on overflow instead of writing past cap. */
struct ob {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
	int		 err;
};

struct pivsim {
	/* persistent */
	enum pivsim_profile profile;
	uint8_t		 version[3];
	uint32_t	 serial;
	uint8_t		 form_factor;
	uint8_t		 pin[8];
	uint8_t		 puk[8];
	uint8_t		 pin_max, pin_left, puk_max, puk_left;
	uint8_t		 mgm_alg;
	uint8_t		 mgm_key[32];
	size_t		 mgm_len;
	uint8_t		 mgm_touch;
	struct pivsim_key keys[NKEYS];
	struct pivsim_obj objs[MAX_OBJS];
	uint8_t		*ca_der;
	size_t		 ca_len;

	/* volatile (cleared on power off / reset) */
	int		 applet;
	int		 pin_ok;
	int		 pin_always_ok;
	int		 mgm_ok;
	int		 wit_kind;	/* 0 none, 1 mutual, 2 single-sided */
	uint8_t		 wit_alg;
	uint8_t		 witness[16];
	uint8_t		 chain[CHAIN_MAX];
	size_t		 chain_len;
	int		 chaining;
	uint8_t		 chain_hdr[4];
	uint8_t		 out[OUT_MAX];
	size_t		 out_len;
	size_t		 out_off;
	int		 touch_cached;
	uint64_t	 last_touch;

	/* host */
	pivsim_touch_cb	*touch_cb;
	void		*touch_arg;
	pivsim_clock_cb	*clock_cb;
	void		*clock_arg;
	int		 no_piv;
	pivsim_rand_cb	*rand_cb;
	void		*rand_arg;
	EVP_PKEY	*rsa_pool[2];	/* 1024, 2048 */

	struct pivsim_stats stats;
	int		 dirty;
};

/* tlv.c */
void	ob_init(struct ob *, uint8_t *, size_t);
void	ob_put(struct ob *, const void *, size_t);
void	ob_u8(struct ob *, uint8_t);
void	ob_hdr(struct ob *, unsigned int, size_t);
void	ob_tlv(struct ob *, unsigned int, const void *, size_t);
int	tlv_read(const uint8_t **, size_t *, uint8_t *, const uint8_t **,
	    size_t *);
int	tlv_find(const uint8_t *, size_t, uint8_t, const uint8_t **, size_t *);

/* apdu.c */
int	card_random(struct pivsim *, uint8_t *, size_t);
int	slot_index(uint8_t);
int	need_touch(struct pivsim *, uint8_t);

/* pin.c */
uint16_t cmd_verify(struct pivsim *, uint8_t, uint8_t, const uint8_t *,
	    size_t);
uint16_t cmd_change_reference(struct pivsim *, uint8_t, uint8_t,
	    const uint8_t *, size_t);
uint16_t cmd_reset_retry(struct pivsim *, uint8_t, uint8_t, const uint8_t *,
	    size_t);
uint16_t cmd_set_pin_retries(struct pivsim *, uint8_t, uint8_t);
uint16_t cmd_reset(struct pivsim *);
void	pin_factory(struct pivsim *);
int	pin_is_default(const struct pivsim *, int);

/* mgmt.c */
uint16_t cmd_mgmt_auth(struct pivsim *, uint8_t, const uint8_t *, size_t);
uint16_t cmd_set_mgmt_key(struct pivsim *, uint8_t, uint8_t,
	    const uint8_t *, size_t);
void	mgmt_factory(struct pivsim *);
int	mgmt_key_is_default(const struct pivsim *);

/* keys.c */
uint16_t cmd_generate(struct pivsim *, uint8_t, const uint8_t *, size_t);
uint16_t cmd_import(struct pivsim *, uint8_t, uint8_t, const uint8_t *,
	    size_t);
uint16_t cmd_key_auth(struct pivsim *, uint8_t, uint8_t, const uint8_t *,
	    size_t);
uint16_t cmd_metadata(struct pivsim *, uint8_t);
void	key_clear(struct pivsim_key *);
int	key_public(EVP_PKEY *, uint8_t, struct ob *);
EVP_PKEY *key_gen(struct pivsim *, uint8_t);

/* objects.c */
uint16_t cmd_get_data(struct pivsim *, uint8_t, uint8_t, const uint8_t *,
	    size_t);
uint16_t cmd_put_data(struct pivsim *, uint8_t, uint8_t, const uint8_t *,
	    size_t);
struct pivsim_obj *obj_find(struct pivsim *, uint32_t);
int	obj_set(struct pivsim *, uint32_t, const uint8_t *, size_t);
void	obj_clear(struct pivsim_obj *);
int	obj_id_valid(uint32_t);

/* attest.c */
int	attest_factory(struct pivsim *);
uint16_t cmd_attest(struct pivsim *, uint8_t);

/* keys.c: MOVE KEY / DELETE KEY (INS F6, firmware 5.7) */
uint16_t cmd_move_key(struct pivsim *, uint8_t, uint8_t);

#endif /* PIVSIM_INTERNAL_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal structures of the fidosim core, shared by ctaphid.c, ctap2.c,
 * pin.c, credman.c, crypto.c, cbor_util.c and state.c.
 */
#ifndef FIDOSIM_INTERNAL_H
#define FIDOSIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/evp.h>

#include "fidosim.h"

/* CTAPHID */
#define HID_MAX_PAYLOAD		7609
#define HID_BROADCAST		0xffffffffU
#define HID_PING		0x01
#define HID_MSG			0x03
#define HID_LOCK		0x04
#define HID_INIT		0x06
#define HID_WINK		0x08
#define HID_CBOR		0x10
#define HID_CANCEL		0x11
#define HID_KEEPALIVE		0x3b
#define HID_ERROR		0x3f
#define HID_ERR_INVALID_CMD	0x01
#define HID_ERR_INVALID_PAR	0x02
#define HID_ERR_INVALID_LEN	0x03
#define HID_ERR_INVALID_SEQ	0x04
#define HID_ERR_MSG_TIMEOUT	0x05
#define HID_ERR_CHANNEL_BUSY	0x06
#define HID_ERR_INVALID_CHANNEL	0x0b
#define HID_CAP_WINK		0x01
#define HID_CAP_CBOR		0x04
#define HID_CAP_NMSG		0x08
#define HID_MSG_TIMEOUT_MS	800
#define HID_KEEPALIVE_MS	100
#define KEEPALIVE_PROCESSING	1
#define KEEPALIVE_UPNEEDED	2

/* CTAP2 status codes */
#define CTAP_OK				0x00
#define CTAP1_ERR_INVALID_COMMAND	0x01
#define CTAP1_ERR_INVALID_PARAMETER	0x02
#define CTAP1_ERR_INVALID_LENGTH	0x03
#define CTAP2_ERR_CBOR_UNEXPECTED_TYPE	0x11
#define CTAP2_ERR_INVALID_CBOR		0x12
#define CTAP2_ERR_MISSING_PARAMETER	0x14
#define CTAP2_ERR_CREDENTIAL_EXCLUDED	0x19
#define CTAP2_ERR_UNSUPPORTED_ALGORITHM	0x26
#define CTAP2_ERR_OPERATION_DENIED	0x27
#define CTAP2_ERR_KEY_STORE_FULL	0x28
#define CTAP2_ERR_UNSUPPORTED_OPTION	0x2b
#define CTAP2_ERR_INVALID_OPTION	0x2c
#define CTAP2_ERR_KEEPALIVE_CANCEL	0x2d
#define CTAP2_ERR_NO_CREDENTIALS	0x2e
#define CTAP2_ERR_USER_ACTION_TIMEOUT	0x2f
#define CTAP2_ERR_NOT_ALLOWED		0x30
#define CTAP2_ERR_PIN_INVALID		0x31
#define CTAP2_ERR_PIN_BLOCKED		0x32
#define CTAP2_ERR_PIN_AUTH_INVALID	0x33
#define CTAP2_ERR_PIN_AUTH_BLOCKED	0x34
#define CTAP2_ERR_PIN_NOT_SET		0x35
#define CTAP2_ERR_PUAT_REQUIRED		0x36
#define CTAP2_ERR_PIN_POLICY_VIOLATION	0x37
#define CTAP2_ERR_REQUEST_TOO_LARGE	0x39
#define CTAP2_ERR_INVALID_SUBCOMMAND	0x3e
#define CTAP2_ERR_UNAUTHORIZED_PERM	0x40
#define CTAP1_ERR_OTHER			0x7f
/* Not a status: the request waits for a touch (see ctap2.c). */
#define CTAP_PENDING_UP			0x100

#define CTAP_MAX_MSG_SIZE	1200
#define COSE_ES256		(-7)
#define COSE_EDDSA		(-8)
#define PIN_MAX_RETRIES		8
#define PIN_MAX_CONSECUTIVE	3
#define PIN_MIN_LEN		4
#define PIN_MAX_LEN		63
#define RESET_WINDOW_MS		10000
#define GETNEXT_WINDOW_MS	30000
#define RK_ID_LEN		16
#define WRAPPED_ID_LEN		63	/* 1 + 12 + 34 + 16 */
#define MAX_CRED_ID_LEN		128
#define MAX_USER_ID_LEN		64
#define MAX_ASSERT_CREDS	100

#define PERM_MC		0x01
#define PERM_GA		0x02
#define PERM_CM		0x04

enum up_result {
	UP_NONE = 0,
	UP_GRANTED,
	UP_DENIED,
	UP_TIMEOUT,
};

/* A discoverable credential. */
struct rk {
	int		used;
	uint8_t		id[RK_ID_LEN];
	uint8_t		rp_id_hash[32];
	char		*rp_id;
	char		*rp_name;
	uint8_t		user_id[MAX_USER_ID_LEN];
	size_t		user_id_len;
	char		*user_name;
	char		*user_display;
	int		alg;
	uint8_t		priv[32];
	uint8_t		cred_protect;	/* 0 = not requested (acts as 1) */
	uint64_t	seq;		/* creation order: newest = highest */
};

/* A credential found by id (resident or unwrapped), for assertions. */
struct cred_ref {
	int		rk_index;	/* -1 when non-resident */
	uint8_t		id[MAX_CRED_ID_LEN];
	size_t		id_len;
	int		alg;
	uint8_t		priv[32];
	uint8_t		cred_protect;
};

struct fidosim {
	struct fidosim_config cfg;
	char		*state_path;

	/* persistent */
	uint8_t		secret[32];	/* wraps non-resident credentials */
	int		pin_set;
	uint8_t		pin_hash[16];	/* LEFT(SHA-256(pin), 16) */
	uint8_t		pin_retries;
	uint32_t	counter;
	uint64_t	rk_seq;
	struct rk	*rks;
	unsigned	rk_cap;

	/* attestation (optional) */
	EVP_PKEY	*att_key;
	uint8_t		*att_cert;
	size_t		att_cert_len;

	/* volatile: PIN protocol */
	uint64_t	power_on_ms;
	unsigned	pin_consecutive_fails;
	EVP_PKEY	*ka_key;
	uint8_t		pin_token[32];
	int		token_valid;
	uint8_t		token_perms;
	char		*token_rp_id;

	/* volatile: getNextAssertion */
	struct cred_ref	*next_creds;
	size_t		next_count;
	size_t		next_index;
	uint8_t		next_cdh[32];
	uint8_t		next_rp_id_hash[32];
	uint8_t		next_flags;
	int		next_details;
	uint64_t	next_time;

	/* volatile: credential management enumeration */
	uint8_t		(*cm_rps)[32];
	size_t		cm_rp_count;
	size_t		cm_rp_index;
	int		*cm_creds;
	size_t		cm_cred_count;
	size_t		cm_cred_index;

	/* user presence */
	enum fidosim_up_mode up_mode;
	unsigned	up_delay_ms;
	unsigned	up_timeout_ms;
	enum up_result	up_forced;	/* result for the re-run */
	int		up_asked;	/* the run asked for a touch */

	/* CTAPHID receive assembly */
	int		rx_active;
	uint32_t	rx_cid;
	uint8_t		rx_cmd;
	size_t		rx_bcnt;
	size_t		rx_len;
	uint8_t		rx_seq;
	uint64_t	rx_last_ms;
	uint8_t		rx_buf[HID_MAX_PAYLOAD];

	/* CTAPHID pending request (waiting for a touch) */
	int		busy;
	uint32_t	busy_cid;
	size_t		busy_len;
	uint8_t		busy_buf[HID_MAX_PAYLOAD];
	uint64_t	busy_resolve_ms;
	enum up_result	busy_outcome;
	uint64_t	busy_next_ka_ms;

	uint32_t	next_cid;

	/* response scratch */
	uint8_t		tx_buf[HID_MAX_PAYLOAD];

	/* faults */
	long		drop_after;	/* -1 = off */
	int		dropping;
	int		corrupt_next;
	int		bad_cbor_next;

	struct fidosim_stats stats;
};

/* util */
uint64_t now_ms(struct fidosim *);
int	rand_bytes(struct fidosim *, uint8_t *, size_t);
void	freezero_str(char *);

/* cbor_util.c */
const cbor_item_t *cb_map_get(const cbor_item_t *map, uint64_t key);
const cbor_item_t *cb_map_get_str(const cbor_item_t *map, const char *key);
int	cb_get_uint(const cbor_item_t *, uint64_t *);
int	cb_get_int(const cbor_item_t *, int64_t *);
int	cb_get_bytes(const cbor_item_t *, const uint8_t **, size_t *);
int	cb_get_text(const cbor_item_t *, char **);
int	cb_get_bool(const cbor_item_t *, int *);
cbor_item_t *cb_int(int64_t);
cbor_item_t *cb_bytes(const void *, size_t);
cbor_item_t *cb_text(const char *);
cbor_item_t *cb_bool(int);
int	cb_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);
int	cb_put_int(cbor_item_t *map, uint64_t key, cbor_item_t *value);
int	cb_put_str(cbor_item_t *map, const char *key, cbor_item_t *value);
int	cb_push(cbor_item_t *array, cbor_item_t *value);
int	cb_encode(cbor_item_t *item, uint8_t **out, size_t *out_len);
void	cb_free_wipe(cbor_item_t **);
int	cb_serialize(const cbor_item_t *, uint8_t **, size_t *);
int	cb_parse(const uint8_t *, size_t, cbor_item_t **);

/* crypto.c */
int	sha256(const void *, size_t, uint8_t *);
int	hmac_sha256(const uint8_t *, size_t, const uint8_t *, size_t,
	    uint8_t *);
int	cred_keygen(struct fidosim *, int alg, uint8_t *priv);
int	cred_cose_pub(int alg, const uint8_t *priv, cbor_item_t **out);
int	cred_sign(int alg, const uint8_t *priv, const uint8_t *msg,
	    size_t msg_len, uint8_t *sig, size_t *sig_len);
int	att_sign(EVP_PKEY *, const uint8_t *, size_t, uint8_t *, size_t *);
int	cred_wrap(struct fidosim *, const uint8_t *rp_id_hash, int alg,
	    uint8_t cred_protect, const uint8_t *priv, uint8_t *id);
int	cred_unwrap(struct fidosim *, const uint8_t *rp_id_hash,
	    const uint8_t *id, size_t id_len, struct cred_ref *out);
int	ka_keygen(EVP_PKEY **);
int	ka_cose_pub(EVP_PKEY *, cbor_item_t **);
int	ka_shared(EVP_PKEY *, int proto, const cbor_item_t *peer,
	    uint8_t *shared, size_t *shared_len);
int	pin_decrypt(int proto, const uint8_t *shared, const uint8_t *in,
	    size_t in_len, uint8_t *out, size_t *out_len);
int	pin_encrypt(struct fidosim *, int proto, const uint8_t *shared,
	    const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len);
int	pin_auth_ok(int proto, const uint8_t *key, const uint8_t *msg,
	    size_t msg_len, const uint8_t *param, size_t param_len);
int	load_attestation(struct fidosim *);

/* state.c */
int	state_load(struct fidosim *);
int	state_save(struct fidosim *);
void	rk_clear(struct rk *);

/* authenticatorData flags */
#define FLAG_UP	0x01
#define FLAG_UV	0x04
#define FLAG_AT	0x40
#define FLAG_ED	0x80

/* ctap2.c */
int	parse_descriptor(const cbor_item_t *, const uint8_t **, size_t *);
int	parse_options(const cbor_item_t *, int *up, int *uv, int *rk,
	    int *has_rk);
int	touch_probe(struct fidosim *);
int	check_protocol(const cbor_item_t *);

/* info.c */
int	ctap2_get_info(struct fidosim *, uint8_t *, size_t *);
unsigned rk_count(const struct fidosim *);

/* assert.c */
int	ctap2_get_assertion(struct fidosim *, const cbor_item_t *, uint8_t *,
	    size_t *);
int	ctap2_get_next_assertion(struct fidosim *, uint8_t *, size_t *);
void	ctap2_clear_next(struct fidosim *);
int	ctap2_dispatch(struct fidosim *, const uint8_t *req, size_t req_len,
	    uint8_t *resp, size_t *resp_len);
int	up_check(struct fidosim *);
void	ctap2_clear_volatile(struct fidosim *);
void	ctap2_fresh_token_state(struct fidosim *);
int	ctap2_reply(cbor_item_t *map, uint8_t *resp, size_t *resp_len);
int	find_cred(struct fidosim *, const uint8_t *rp_id_hash,
	    const uint8_t *id, size_t id_len, struct cred_ref *out);
const uint8_t *token_aaguid(const struct fidosim *);
int	token_fw(const struct fidosim *, uint8_t *maj, uint8_t *min,
	    uint8_t *build);

/* pin.c */
int	ctap2_client_pin(struct fidosim *, const cbor_item_t *req,
	    uint8_t *resp, size_t *resp_len);
int	pin_uv_verify(struct fidosim *, const cbor_item_t *proto_item,
	    const uint8_t *param, size_t param_len, const uint8_t *msg,
	    size_t msg_len, uint8_t perm, const char *rp_id);
int	pin_token_reset(struct fidosim *);

/* credman.c */
int	ctap2_credman(struct fidosim *, const cbor_item_t *req,
	    uint8_t *resp, size_t *resp_len);
void	credman_clear(struct fidosim *);

#endif /* FIDOSIM_INTERNAL_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fidosim: a software CTAP2.1 authenticator for tests.
 *
 * The core is transport independent.  The caller feeds it 64-byte CTAPHID
 * reports with fidosim_feed() and receives reports through the send
 * callback.  Time comes from the clock callback only, so a fake clock makes
 * the core deterministic (fuzzing, unit tests).  While a request waits for
 * user presence the caller must call fidosim_tick() at least every
 * fidosim_next_timeout() milliseconds; the core then sends KEEPALIVEs and
 * resolves the touch.
 *
 * Call flow:
 *	fidosim_new(cfg) -> [fidosim_feed(report) | fidosim_tick()]* ->
 *	fidosim_free()
 */
#ifndef FIDOSIM_H
#define FIDOSIM_H

#include <stddef.h>
#include <stdint.h>

#define FIDOSIM_REPORT_LEN	64

enum fidosim_up_mode {
	FIDOSIM_UP_APPROVE = 0,	/* touch granted at once */
	FIDOSIM_UP_DELAY,	/* touch granted after up_delay_ms */
	FIDOSIM_UP_DENY,	/* touch refused: OPERATION_DENIED */
	FIDOSIM_UP_NEVER,	/* no touch: USER_ACTION_TIMEOUT */
};

struct fidosim_config {
	/* Monotonic milliseconds.  Required. */
	uint64_t	(*clock_ms)(void *arg);
	/* One outgoing 64-byte report.  Required. */
	void		(*send)(void *arg, const uint8_t *report);
	void		*arg;
	/* Persistent state file, or NULL for an in-memory token. */
	const char	*state_path;
	/* Discoverable credential slots: 25 or 100. */
	unsigned	rk_capacity;
	/* Leave EdDSA out (emulates firmware before 5.2.3). */
	int		no_eddsa;
	/* Advertise makeCredUvNotRqd: non-resident makeCredential without
	 * PIN even when a PIN is set. */
	int		mc_uv_not_rqd;
	/*
	 * CTAP 2.1-PRE profile of YubiKey 5.2-5.6: versions FIDO_2_0 and
	 * FIDO_2_1_PRE, credentialMgmtPreview only (0x41), no pinUvAuthToken
	 * (getPinToken only, one token per power-up, no permissions), PIN
	 * protocol 1 only.
	 */
	int		ctap21_pre;
	/* DER attestation certificate and PEM/DER P-256 key, or NULL. */
	const char	*att_cert_path;
	const char	*att_key_path;
	/* Random source override (fuzzing); NULL = OpenSSL RAND_bytes. */
	int		(*rand_bytes)(void *arg, uint8_t *buf, size_t len);
	/* Do not write the state file (fuzzing). */
	int		no_persist;
};

struct fidosim_stats {
	unsigned long	reports_in;
	unsigned long	reports_out;
	unsigned long	keepalives;
	unsigned long	touches;
	unsigned long	hid_errors;
	unsigned long	ctap[16];	/* index: enum fidosim_ctap_kind */
};

enum fidosim_ctap_kind {
	FIDOSIM_CK_MAKE_CRED = 0,
	FIDOSIM_CK_GET_ASSERT,
	FIDOSIM_CK_GET_INFO,
	FIDOSIM_CK_CLIENT_PIN,
	FIDOSIM_CK_RESET,
	FIDOSIM_CK_GET_NEXT,
	FIDOSIM_CK_CREDMAN,
	FIDOSIM_CK_SELECTION,
	FIDOSIM_CK_OTHER,
	FIDOSIM_CK_COUNT
};

struct fidosim;

/*
 * Creates a token; loads cfg->state_path if it exists, else makes a fresh
 * token (and writes the file).  Returns 0, or -1 with a message on stderr
 * (bad state file, unreadable attestation files, out of memory).
 */
int	fidosim_new(const struct fidosim_config *cfg, struct fidosim **out);
void	fidosim_free(struct fidosim *tok);

/* Processes one 64-byte report (no report-id byte). */
void	fidosim_feed(struct fidosim *tok, const uint8_t *report);
/* Advances timers: keepalives, touch resolution, message timeouts. */
void	fidosim_tick(struct fidosim *tok);
/* Milliseconds until fidosim_tick() is next needed, or -1 if never. */
int	fidosim_next_timeout(struct fidosim *tok);

void	fidosim_set_up(struct fidosim *tok, enum fidosim_up_mode mode,
	    unsigned delay_ms);
void	fidosim_set_up_timeout(struct fidosim *tok, unsigned timeout_ms);
/* Power cycle: ends pending work, new key agreement key and PIN token,
 * PIN_AUTH_BLOCKED cleared, reset window reopened. */
void	fidosim_powercycle(struct fidosim *tok);

/* Fault injection. */
void	fidosim_fault_drop_after(struct fidosim *tok, long n);
void	fidosim_fault_corrupt_next(struct fidosim *tok);
void	fidosim_fault_bad_cbor_next(struct fidosim *tok);

void	fidosim_get_stats(const struct fidosim *tok, struct fidosim_stats *st);
const char *fidosim_ctap_kind_name(int kind);

#endif /* FIDOSIM_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Report-level I/O for libfido2 (fido_dev_set_io_functions), used for every
 * token ykssh opens so that ykssh sees each CTAPHID report:
 *
 *  - "/dev/hidrawN": a FIDO HID interface (64-byte reports, report id 0),
 *    opened exclusively (flock), as libfido2's own backend does;
 *  - "udp://HOST:PORT[?local=PORT]": HID over UDP, the convention of the
 *    SoloKeys and canokey simulators and of ykssh's test token: one 64-byte
 *    report per datagram, no report id.  Those simulators answer to
 *    127.0.0.1:7112, so that is the default local port; local=0 binds an
 *    ephemeral port (for tokens that answer to the sender, and for running
 *    several clients at once).
 *
 * While libfido2 waits for a reply, the reader watches for KEEPALIVE
 * reports (libfido2 drops them silently): the first "user presence needed"
 * status calls the touch callback, so "Touch your YubiKey" appears when
 * the token really waits, not before.  If the context's cancel flag is set
 * (Ctrl-C) the reader sends CTAPHID_CANCEL on the current channel once;
 * the token then fails the request with CTAP2_ERR_KEEPALIVE_CANCEL.
 */
#ifndef YKSSH_YKSSH_FIDO_IO_H
#define YKSSH_YKSSH_FIDO_IO_H

#include <stddef.h>
#include <stdint.h>

#include <fido.h>

#include "ykssh/ctx.h"

#define YKSSH_FIDO_IO_REPORT_LEN	64
#define YKSSH_FIDO_IO_UDP_PREFIX	"udp://"
#define YKSSH_FIDO_IO_UDP_LOCAL_PORT	7112
/* Watchdog before ykssh_fido_io_attach(), i.e. during fido_dev_open(). */
#define YKSSH_FIDO_IO_OPEN_SILENCE_MS	3000

typedef void ykssh_fido_io_touch_fn(void *arg);

/* What ykssh reads from the token's getInfo reply (fido-info.c). */
struct ykssh_fido_info {
	int		valid;
	int		has_aaguid;
	uint8_t		aaguid[16];
	uint64_t	firmware;		/* 0: not reported */
	int		client_pin;		/* -1 absent, 0 not set, 1 set */
	int		make_cred_uv_not_rqd;
	int		always_uv;
	int		algorithms_listed;
	int		eddsa;
	int		es256;
};

/*
 * Parses a CTAPHID CBOR reply to getInfo (status byte + map).  0 on
 * success; -1 if it is not a well-formed successful reply.
 */
int ykssh_fido_info_parse(const uint8_t *reply, size_t len,
    struct ykssh_fido_info *info);
/* The getInfo reply seen on this handle (valid == 0 if none). */
const struct ykssh_fido_info *ykssh_fido_io_info(const void *handle);

/* The four libfido2 callbacks. */
void ykssh_fido_io_functions(fido_dev_io_t *io);

/*
 * After fido_dev_open(), attach the context (logging, cancel flag), the
 * silence watchdog (a read that sees no report at all for silence_ms
 * fails with ENODEV: the token is gone; 0 disables it) and the touch
 * callback to the handle (fido_dev_io_handle(dev)).
 */
void ykssh_fido_io_attach(void *handle, const struct ykssh_ctx *ctx,
    int silence_ms, ykssh_fido_io_touch_fn *touch, void *touch_arg);
/* Re-arms the touch callback for the next operation. */
void ykssh_fido_io_rearm_touch(void *handle);
/* Number of CTAPHID requests (initial frames written), for benchmarks. */
unsigned long ykssh_fido_io_requests(const void *handle);
/* Number of CTAP2 commands sent, by command byte (0..255). */
unsigned long ykssh_fido_io_ctap_commands(const void *handle, unsigned cmd);

/* Path helpers. */
int ykssh_fido_io_is_udp(const char *path);

/* Exposed for unit tests: parse "udp://HOST:PORT[?local=PORT]". */
int ykssh_fido_io_parse_udp(const char *path, char *host, size_t hostlen,
    unsigned *port, unsigned *local_port);

#endif /* YKSSH_YKSSH_FIDO_IO_H */

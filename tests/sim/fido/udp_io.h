/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfido2 custom I/O for HID-over-UDP tokens (fidosim, the SoloKeys and
 * canokey simulators): one 64-byte CTAPHID report per datagram, no
 * report-id byte.
 *
 *	fido_dev_io_t io;
 *	ykssh_udp_io(&io);
 *	fido_dev_set_io_functions(dev, &io);
 *	fido_dev_open(dev, "udp://127.0.0.1:8111");
 *
 * The local end binds an ephemeral port on 127.0.0.1 (never 7112), so
 * several clients and tokens can run at once; the token must answer to the
 * sender's address, as fidosim does.
 */
#ifndef YKSSH_UDP_IO_H
#define YKSSH_UDP_IO_H

#include <stddef.h>

#include <fido.h>

#define YKSSH_UDP_PREFIX	"udp://"

/* Fills io with the four callbacks below. */
void	ykssh_udp_io(fido_dev_io_t *io);

/*
 * "udp://HOST:PORT" (HOST a dotted IPv4 address) -> handle, or NULL on a
 * malformed path or a socket error (errno kept).
 */
void	*ykssh_udp_open(const char *path);
void	ykssh_udp_close(void *handle);
/* One report: 64 bytes into buf; ms = -1 waits forever.  64 or -1. */
int	ykssh_udp_read(void *handle, unsigned char *buf, size_t len, int ms);
/* buf = report id (0) + 64 bytes, as libfido2 passes it.  len or -1. */
int	ykssh_udp_write(void *handle, const unsigned char *buf, size_t len);

#endif /* YKSSH_UDP_IO_H */

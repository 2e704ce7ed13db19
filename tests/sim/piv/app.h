/* SPDX-License-Identifier: BSD-2-Clause */
/* The pivsim executable: vpcd connection, control channel, main loop. */
#ifndef PIVSIM_APP_H
#define PIVSIM_APP_H

#include <stddef.h>
#include <stdint.h>

#include "pivsim.h"

#define CTL_MAX_CLIENTS	8
#define CTL_LINE_MAX	256

enum touch_mode {
	TOUCH_MODE_APPROVE,
	TOUCH_MODE_DENY,
	TOUCH_MODE_NEVER,
	TOUCH_MODE_DELAY,
};

struct app {
	struct pivsim	*card;
	const char	*host;
	uint16_t	 port;
	const char	*state_path;
	const char	*ctl_path;
	int		 verbose;

	int		 vfd;		/* vpcd connection, -1 when absent */
	int		 lfd;		/* control listener, -1 when none */
	int		 cfd[CTL_MAX_CLIENTS];
	char		 cbuf[CTL_MAX_CLIENTS][CTL_LINE_MAX];
	size_t		 clen[CTL_MAX_CLIENTS];

	enum touch_mode	 touch_mode;
	unsigned int	 touch_delay_ms;
	unsigned int	 touch_timeout_ms;
	long		 fault_after;	/* APDUs before a pull, -1 disarmed */
	unsigned int	 reconnect_ms;
	uint64_t	 reconnect_at;

	uint32_t	 atr_polls;
	uint32_t	 connects;
	uint32_t	 pulls;
	int		 powered;
	volatile int	 quit;
};

/* vpcd.c */
int	vpcd_connect(const char *, uint16_t);
int	vpcd_recv(int, uint8_t *, size_t, size_t *);
int	vpcd_send(int, const uint8_t *, size_t);

/* control.c */
int	ctl_listen(const char *);
void	ctl_close(struct app *);
/* Serve the control channel for up to ms milliseconds (extra fd polled). */
int	ctl_poll(struct app *, int, int);
int	parse_touch(struct app *, const char *);

/* main.c */
uint64_t now_ms(void);

#endif /* PIVSIM_APP_H */

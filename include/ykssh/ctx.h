/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Library context.
 *
 * ykssh keeps no global state: whatever a module needs beyond its own
 * objects (the log sink and level, the cancellation flag a signal handler
 * sets) hangs off a struct ykssh_ctx that the caller creates once and
 * passes down.  A context is not thread-safe; use one per thread.
 *
 * Log messages describe what happened ("makeCredential with PIN"), never
 * the secrets handled.  Wire dumps are logged only at YKSSH_LOG_TRACE, which
 * the CLI enables only on an explicit debug request.
 */
#ifndef YKSSH_CTX_H
#define YKSSH_CTX_H

#include <signal.h>

#include "ykssh/error.h"

enum ykssh_log_level {
	YKSSH_LOG_ERROR = 0,
	YKSSH_LOG_WARN,
	YKSSH_LOG_INFO,
	YKSSH_LOG_DEBUG,
	YKSSH_LOG_TRACE		/* protocol dumps */
};

/* A log sink receives one complete message, without a trailing newline. */
typedef void ykssh_log_fn(void *arg, enum ykssh_log_level level,
    const char *msg);

struct ykssh_ctx;

/* NULL only on allocation failure.  Default: no log sink, level WARN. */
struct ykssh_ctx *ykssh_ctx_new(void) YKSSH_MUST_CHECK;
void ykssh_ctx_free(struct ykssh_ctx *ctx);

/* Messages above `max_level` are dropped before formatting. */
void ykssh_ctx_set_log(struct ykssh_ctx *ctx, ykssh_log_fn *fn, void *arg,
    enum ykssh_log_level max_level);
enum ykssh_log_level ykssh_ctx_log_level(const struct ykssh_ctx *ctx);

/*
 * Cancellation: the caller's SIGINT handler sets *flag non-zero; long token
 * operations poll ykssh_ctx_cancelled() and stop with YKSSH_ERR_CANCELLED.
 */
void ykssh_ctx_set_cancel_flag(struct ykssh_ctx *ctx,
    volatile sig_atomic_t *flag);
int ykssh_ctx_cancelled(const struct ykssh_ctx *ctx);

/*
 * Notices: moments the user must act on, which the front end shows (the
 * library never prints).  `detail` names the token, may be NULL.
 */
enum ykssh_notice {
	YKSSH_NOTICE_TOUCH,		/* the token waits for a touch now */
	YKSSH_NOTICE_SELECT_BY_TOUCH	/* several tokens: touch the one */
};
typedef void ykssh_notice_fn(void *arg, enum ykssh_notice notice,
    const char *detail);
void ykssh_ctx_set_notice(struct ykssh_ctx *ctx, ykssh_notice_fn *fn,
    void *arg);
void ykssh_ctx_notice(const struct ykssh_ctx *ctx, enum ykssh_notice notice,
    const char *detail);

/*
 * A token that sends nothing at all (not even KEEPALIVE) for this long
 * while a request is pending is taken to be gone.  Default 10000 ms.
 */
void ykssh_ctx_set_token_timeout(struct ykssh_ctx *ctx, int ms);
int ykssh_ctx_token_timeout(const struct ykssh_ctx *ctx);

void ykssh_log(const struct ykssh_ctx *ctx, enum ykssh_log_level level,
    const char *fmt, ...) YKSSH_PRINTF(3, 4);

/* Debug line prefixed with the calling function's name. */
#define ykssh_debug(ctx, ...) \
	ykssh_log_func((ctx), YKSSH_LOG_DEBUG, __func__, __VA_ARGS__)
void ykssh_log_func(const struct ykssh_ctx *ctx, enum ykssh_log_level level,
    const char *func, const char *fmt, ...) YKSSH_PRINTF(4, 5);

#endif /* YKSSH_CTX_H */

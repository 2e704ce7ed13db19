/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ykssh/ctx.h"

struct ykssh_ctx {
	ykssh_log_fn		*log_fn;
	void			*log_arg;
	enum ykssh_log_level	 log_level;
	volatile sig_atomic_t	*cancel;
	ykssh_notice_fn		*notice_fn;
	void			*notice_arg;
	int			 token_timeout_ms;
};

#define TOKEN_TIMEOUT_MS	10000

struct ykssh_ctx *
ykssh_ctx_new(void)
{
	struct ykssh_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	ctx->log_level = YKSSH_LOG_WARN;
	ctx->token_timeout_ms = TOKEN_TIMEOUT_MS;
	return ctx;
}

void
ykssh_ctx_free(struct ykssh_ctx *ctx)
{
	free(ctx);
}

void
ykssh_ctx_set_log(struct ykssh_ctx *ctx, ykssh_log_fn *fn, void *arg,
    enum ykssh_log_level max_level)
{
	ctx->log_fn = fn;
	ctx->log_arg = arg;
	ctx->log_level = max_level;
}

enum ykssh_log_level
ykssh_ctx_log_level(const struct ykssh_ctx *ctx)
{
	return ctx->log_level;
}

void
ykssh_ctx_set_cancel_flag(struct ykssh_ctx *ctx, volatile sig_atomic_t *flag)
{
	ctx->cancel = flag;
}

int
ykssh_ctx_cancelled(const struct ykssh_ctx *ctx)
{
	return ctx != NULL && ctx->cancel != NULL && *ctx->cancel != 0;
}

void
ykssh_ctx_set_notice(struct ykssh_ctx *ctx, ykssh_notice_fn *fn, void *arg)
{
	ctx->notice_fn = fn;
	ctx->notice_arg = arg;
}

void
ykssh_ctx_notice(const struct ykssh_ctx *ctx, enum ykssh_notice notice,
    const char *detail)
{
	if (ctx != NULL && ctx->notice_fn != NULL)
		ctx->notice_fn(ctx->notice_arg, notice, detail);
}

void
ykssh_ctx_set_token_timeout(struct ykssh_ctx *ctx, int ms)
{
	ctx->token_timeout_ms = ms > 0 ? ms : TOKEN_TIMEOUT_MS;
}

int
ykssh_ctx_token_timeout(const struct ykssh_ctx *ctx)
{
	return ctx != NULL ? ctx->token_timeout_ms : TOKEN_TIMEOUT_MS;
}

static void logv(const struct ykssh_ctx *, enum ykssh_log_level,
    const char *, const char *, va_list) YKSSH_PRINTF(4, 0);

static void
logv(const struct ykssh_ctx *ctx, enum ykssh_log_level level,
    const char *func, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = 0;

	if (ctx == NULL || ctx->log_fn == NULL || level > ctx->log_level)
		return;
	if (func != NULL)
		n = snprintf(msg, sizeof(msg), "%s: ", func);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	/* Long messages are truncated rather than allocated. */
	(void)vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	ctx->log_fn(ctx->log_arg, level, msg);
}

void
ykssh_log(const struct ykssh_ctx *ctx, enum ykssh_log_level level,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logv(ctx, level, NULL, fmt, ap);
	va_end(ap);
}

void
ykssh_log_func(const struct ykssh_ctx *ctx, enum ykssh_log_level level,
    const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logv(ctx, level, func, fmt, ap);
	va_end(ap);
}

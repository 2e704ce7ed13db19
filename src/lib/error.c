/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ykssh/error.h"

struct ykssh_err {
	int		 code;
	int		 errnum;	/* errno when the error was made */
	char		*msg;
	char		*hint;
	const char	*func;
	const char	*file;
	int		 line;
	struct ykssh_err *cause;
};

/*
 * Returned whenever an error object cannot be allocated.  It is never
 * written to and never freed.
 */
static const struct ykssh_err err_nomem = {
	.code = YKSSH_ERR_NOMEM,
	.msg = (char *)(uintptr_t)"out of memory",
	.func = "ykssh_err_make",
	.file = __FILE__,
};
#define ERR_NOMEM	((struct ykssh_err *)(uintptr_t)&err_nomem)

/*
 * One row per code: its name, its text, and the exit status of its class.
 * Exit statuses follow sysexits(3) where a class fits, and use 80-99 for
 * token and service classes sysexits has no word for; ykssh(1) lists them.
 */
static const struct errinfo {
	int		 code;
	const char	*name;
	const char	*text;
	int		 exit_status;
} errinfo[] = {
#define E(c, t, x)	[c] = { c, #c, t, x }
	E(YKSSH_ERR_SUCCESS, "success", 0),
	E(YKSSH_ERR_INTERNAL, "internal error", 70),
	E(YKSSH_ERR_NOMEM, "out of memory", 71),
	E(YKSSH_ERR_INVALID_ARGUMENT, "invalid argument", 70),
	E(YKSSH_ERR_USAGE, "usage error", 64),
	E(YKSSH_ERR_SYSTEM, "system error", 71),
	E(YKSSH_ERR_INVALID_FORMAT, "invalid format", 65),
	E(YKSSH_ERR_MESSAGE_INCOMPLETE, "message incomplete", 65),
	E(YKSSH_ERR_TRAILING_DATA, "unexpected trailing data", 65),
	E(YKSSH_ERR_NO_BUFFER_SPACE, "no buffer space", 65),
	E(YKSSH_ERR_STRING_TOO_LARGE, "string too large", 65),
	E(YKSSH_ERR_BIGNUM_TOO_LARGE, "number too large", 65),
	E(YKSSH_ERR_BIGNUM_IS_NEGATIVE, "number is negative", 65),
	E(YKSSH_ERR_BUFFER_READ_ONLY, "buffer is read-only", 70),
	E(YKSSH_ERR_KEY_TYPE_UNKNOWN, "unknown or unsupported key type", 65),
	E(YKSSH_ERR_CRYPTO, "cryptographic library error", 70),
	E(YKSSH_ERR_FILE_NOT_FOUND, "file not found", 66),
	E(YKSSH_ERR_FILE_EXISTS, "file exists", 73),
	E(YKSSH_ERR_PERMISSION, "permission denied", 77),
	E(YKSSH_ERR_UNSAFE_FILE, "unsafe file permissions or type", 77),
	E(YKSSH_ERR_LOCKED, "locked by another ykssh", 75),
	E(YKSSH_ERR_CONFIG, "configuration error", 78),
	E(YKSSH_ERR_DEVICE_NOT_FOUND, "no security token found", 69),
	E(YKSSH_ERR_DEVICE, "security token communication failed", 74),
	E(YKSSH_ERR_UNSUPPORTED, "not supported by the security token", 80),
	E(YKSSH_ERR_PIN_REQUIRED, "PIN required", 81),
	E(YKSSH_ERR_PIN_NOT_SET, "no PIN set on the security token", 81),
	E(YKSSH_ERR_PIN_POLICY, "PIN does not meet the token's policy", 81),
	E(YKSSH_ERR_PIN_INVALID, "wrong PIN", 82),
	E(YKSSH_ERR_PIN_BLOCKED, "PIN blocked", 83),
	E(YKSSH_ERR_TOUCH_DENIED, "touch denied", 84),
	E(YKSSH_ERR_TOUCH_TIMEOUT, "touch timed out", 84),
	E(YKSSH_ERR_CANCELLED, "cancelled", 130),
	E(YKSSH_ERR_CREDENTIAL_EXISTS, "credential already exists on the token",
	    85),
	E(YKSSH_ERR_SLOT_OCCUPIED, "PIV slot already holds a key", 85),
	E(YKSSH_ERR_AUTH_MGMT_KEY, "wrong PIV management key", 82),
	E(YKSSH_ERR_ATTESTATION, "attestation did not verify", 86),
	E(YKSSH_ERR_NETWORK, "network error", 90),
	E(YKSSH_ERR_TLS, "TLS error", 91),
	E(YKSSH_ERR_AUTH, "authentication failed", 92),
	E(YKSSH_ERR_FORBIDDEN, "not allowed", 93),
	E(YKSSH_ERR_NOT_FOUND, "not found on the server", 94),
	E(YKSSH_ERR_CONFLICT, "already exists on the server", 95),
	E(YKSSH_ERR_RATE_LIMITED, "rate limited by the server", 96),
	E(YKSSH_ERR_SERVER, "server error", 96),
	E(YKSSH_ERR_REJECTED, "rejected by the server", 97),
	E(YKSSH_ERR_PROTOCOL, "unexpected reply from the server", 98),
	E(YKSSH_ERR_CHECK_FAILED, "a check failed", 89),
#undef E
};

_Static_assert(sizeof(errinfo) / sizeof(errinfo[0]) == YKSSH_ERR_MAX,
    "errinfo[] must have one row per error code");

static const struct errinfo *
lookup(int code)
{
	if (code < 0 || code >= YKSSH_ERR_MAX || errinfo[code].name == NULL)
		return NULL;
	return &errinfo[code];
}

const char *
ykssh_strerror(int code)
{
	const struct errinfo *ei = lookup(code);

	return ei != NULL ? ei->text : "unknown error";
}

const char *
ykssh_strerror_name(int code)
{
	const struct errinfo *ei = lookup(code);

	return ei != NULL ? ei->name : "YKSSH_ERR_UNKNOWN";
}

int
ykssh_err_exit_status(int code)
{
	const struct errinfo *ei = lookup(code);

	return ei != NULL ? ei->exit_status : 70;
}

struct ykssh_err *
ykssh_err_makev(int code, struct ykssh_err *cause, int errnum,
    const char *func, const char *file, int line, const char *fmt, va_list ap)
{
	struct ykssh_err *err;
	char *msg = NULL, *full = NULL;

	if ((err = calloc(1, sizeof(*err))) == NULL)
		goto fail;
	if (vasprintf(&msg, fmt, ap) == -1) {
		msg = NULL;
		goto fail;
	}
	if (errnum != 0) {
		if (asprintf(&full, "%s: %s", msg, strerror(errnum)) == -1)
			goto fail;
		free(msg);
		msg = full;
	}
	err->code = code;
	err->errnum = errnum;
	err->msg = msg;
	err->func = func;
	err->file = file;
	err->line = line;
	err->cause = cause;
	return err;
fail:
	free(msg);
	free(err);
	ykssh_err_free(cause);
	return ERR_NOMEM;
}

struct ykssh_err *
ykssh_err_make(int code, struct ykssh_err *cause, int errnum,
    const char *func, const char *file, int line, const char *fmt, ...)
{
	struct ykssh_err *err;
	va_list ap;

	va_start(ap, fmt);
	err = ykssh_err_makev(code, cause, errnum, func, file, line, fmt, ap);
	va_end(ap);
	return err;
}

struct ykssh_err *
ykssh_err_wrap(struct ykssh_err *cause, const char *func, const char *file,
    int line, const char *fmt, ...)
{
	struct ykssh_err *err;
	va_list ap;
	int code;

	code = cause != NULL ? cause->code : YKSSH_ERR_INTERNAL;
	va_start(ap, fmt);
	err = ykssh_err_makev(code, cause, 0, func, file, line, fmt, ap);
	va_end(ap);
	return err;
}

struct ykssh_err *
ykssh_err_hint(struct ykssh_err *err, const char *fmt, ...)
{
	va_list ap;
	char *hint;

	if (err == NULL || err == ERR_NOMEM)
		return err;
	va_start(ap, fmt);
	if (vasprintf(&hint, fmt, ap) == -1)
		hint = NULL;
	va_end(ap);
	if (hint != NULL) {
		free(err->hint);
		err->hint = hint;
	}
	return err;
}

void
ykssh_err_free(struct ykssh_err *err)
{
	struct ykssh_err *next;

	while (err != NULL && err != ERR_NOMEM) {
		next = err->cause;
		free(err->msg);
		free(err->hint);
		free(err);
		err = next;
	}
}

int
ykssh_err_code(const struct ykssh_err *err)
{
	return err != NULL ? err->code : YKSSH_ERR_SUCCESS;
}

const char *
ykssh_err_message(const struct ykssh_err *err)
{
	return err != NULL ? err->msg : "success";
}

const char *
ykssh_err_hint_text(const struct ykssh_err *err)
{
	return err != NULL ? err->hint : NULL;
}

int
ykssh_err_errno(const struct ykssh_err *err)
{
	return err != NULL ? err->errnum : 0;
}

const struct ykssh_err *
ykssh_err_cause(const struct ykssh_err *err)
{
	return err != NULL ? err->cause : NULL;
}

const char *
ykssh_err_func(const struct ykssh_err *err)
{
	return err != NULL ? err->func : NULL;
}

const char *
ykssh_err_file(const struct ykssh_err *err)
{
	return err != NULL ? err->file : NULL;
}

int
ykssh_err_line(const struct ykssh_err *err)
{
	return err != NULL ? err->line : 0;
}

int
ykssh_err_has(const struct ykssh_err *err, int code)
{
	for (; err != NULL; err = err->cause)
		if (err->code == code)
			return 1;
	return 0;
}

const char *
ykssh_err_find_hint(const struct ykssh_err *err)
{
	for (; err != NULL; err = err->cause)
		if (err->hint != NULL)
			return err->hint;
	return NULL;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Errors.
 *
 * Two layers, one vocabulary:
 *
 *  - enum ykssh_errcode: stable named codes (0 = success).  Low-level,
 *    allocation-free functions such as the wire buffer (buf.h) return these
 *    directly as an int, the way OpenSSH's sshbuf does.
 *
 *  - struct ykssh_err: an error object for everything that has a story to
 *    tell.  A fallible function returns `struct ykssh_err *`, NULL on
 *    success.  The object holds the code, a message naming what failed, an
 *    optional hint naming the fix, the errno captured when the error was
 *    made, the source location, and the error that caused it (a chain).
 *
 *	struct ykssh_err *e;
 *
 *	if ((fd = open(path, O_RDONLY)) == -1)
 *		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot open %s", path);
 *	if ((e = parse(fd)) != NULL)
 *		return YKSSH_ERR_CAUSE(YKSSH_ERR_INVALID_FORMAT, e,
 *		    "%s is not an OpenSSH key", path);
 *
 * Creating an error never fails: when memory runs out the constructors
 * return a static out-of-memory error (code YKSSH_ERR_NOMEM) that
 * ykssh_err_free() recognises and does not free.  Causes passed to a
 * constructor are owned by the new error.
 *
 * Messages never contain secrets (PINs, management keys, tokens): callers
 * describe what failed, not the value that was handled.
 */
#ifndef YKSSH_ERROR_H
#define YKSSH_ERROR_H

#include <stdarg.h>

#ifdef __GNUC__
#define YKSSH_MUST_CHECK	__attribute__((warn_unused_result))
#define YKSSH_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define YKSSH_MUST_CHECK
#define YKSSH_PRINTF(f, a)
#endif

/*
 * Error codes.  Values are stable (they appear in --json output by name,
 * and map to exit statuses through ykssh_err_exit_status()); new codes are
 * appended before YKSSH_ERR_MAX.
 */
enum ykssh_errcode {
	YKSSH_ERR_SUCCESS = 0,
	/* programming and environment */
	YKSSH_ERR_INTERNAL,		/* broken invariant: a bug */
	YKSSH_ERR_NOMEM,		/* allocation failed */
	YKSSH_ERR_INVALID_ARGUMENT,	/* caller passed a bad argument */
	YKSSH_ERR_USAGE,		/* bad command line */
	YKSSH_ERR_SYSTEM,		/* a system call failed (see errno) */
	/* data formats */
	YKSSH_ERR_INVALID_FORMAT,	/* input is not what it claims */
	YKSSH_ERR_MESSAGE_INCOMPLETE,	/* input ends early */
	YKSSH_ERR_TRAILING_DATA,	/* input has bytes after the end */
	YKSSH_ERR_NO_BUFFER_SPACE,	/* buffer would exceed its maximum */
	YKSSH_ERR_STRING_TOO_LARGE,	/* length field over the limit */
	YKSSH_ERR_BIGNUM_TOO_LARGE,	/* mpint over the size cap */
	YKSSH_ERR_BIGNUM_IS_NEGATIVE,	/* mpint is negative */
	YKSSH_ERR_BUFFER_READ_ONLY,	/* write to a read-only view */
	YKSSH_ERR_KEY_TYPE_UNKNOWN,	/* unsupported key type */
	YKSSH_ERR_CRYPTO,		/* OpenSSL failed */
	/* files */
	YKSSH_ERR_FILE_NOT_FOUND,	/* a needed file does not exist */
	YKSSH_ERR_FILE_EXISTS,		/* refusing to overwrite */
	YKSSH_ERR_PERMISSION,		/* not allowed to read/write */
	YKSSH_ERR_UNSAFE_FILE,		/* bad mode, owner or symlink */
	YKSSH_ERR_LOCKED,		/* another ykssh holds the lock */
	YKSSH_ERR_CONFIG,		/* configuration is wrong */
	/* tokens */
	YKSSH_ERR_DEVICE_NOT_FOUND,	/* no token / reader / card */
	YKSSH_ERR_DEVICE,		/* token I/O failed or token gone */
	YKSSH_ERR_UNSUPPORTED,		/* token lacks a needed feature */
	YKSSH_ERR_PIN_REQUIRED,		/* operation needs a PIN */
	YKSSH_ERR_PIN_NOT_SET,		/* token has no PIN yet */
	YKSSH_ERR_PIN_INVALID,		/* wrong PIN (retries remain) */
	YKSSH_ERR_PIN_BLOCKED,		/* PIN blocked (no retries) */
	YKSSH_ERR_PIN_POLICY,		/* PIN too short/long etc. */
	YKSSH_ERR_TOUCH_DENIED,		/* user refused presence */
	YKSSH_ERR_TOUCH_TIMEOUT,	/* nobody touched in time */
	YKSSH_ERR_CANCELLED,		/* user cancelled (Ctrl-C) */
	YKSSH_ERR_CREDENTIAL_EXISTS,	/* same resident credential */
	YKSSH_ERR_SLOT_OCCUPIED,	/* PIV slot already holds a key */
	YKSSH_ERR_AUTH_MGMT_KEY,	/* wrong PIV management key */
	YKSSH_ERR_ATTESTATION,		/* attestation did not verify */
	/* network service (Bitbucket) */
	YKSSH_ERR_NETWORK,		/* connect/DNS/timeout */
	YKSSH_ERR_TLS,			/* certificate verification etc. */
	YKSSH_ERR_AUTH,			/* bad or missing credentials */
	YKSSH_ERR_FORBIDDEN,		/* missing scope / not allowed */
	YKSSH_ERR_NOT_FOUND,		/* remote object does not exist */
	YKSSH_ERR_CONFLICT,		/* remote object already exists */
	YKSSH_ERR_RATE_LIMITED,		/* too many requests */
	YKSSH_ERR_SERVER,		/* server-side failure (5xx) */
	YKSSH_ERR_REJECTED,		/* server refused the key */
	YKSSH_ERR_PROTOCOL,		/* unexpected reply */
	/* diagnosis */
	YKSSH_ERR_CHECK_FAILED,		/* ykssh doctor: a check failed */
	YKSSH_ERR_MAX			/* not a code: the count */
};

struct ykssh_err;

/* Text of a code ("buffer is read-only"), never NULL. */
const char *ykssh_strerror(int code);
/* Macro name of a code ("YKSSH_ERR_BUFFER_READ_ONLY"), never NULL. */
const char *ykssh_strerror_name(int code);
/*
 * Exit status the CLI uses for a code: 0 for success, 64 for usage errors,
 * otherwise one status per failure class (documented in ykssh(1)).
 */
int ykssh_err_exit_status(int code);

/*
 * Constructors.  Use the macros, which record the source location.
 * `cause` (may be NULL) becomes owned by the new error.  `errnum` is the
 * errno to record (0 for none).  Never return NULL.
 */
struct ykssh_err *ykssh_err_make(int code, struct ykssh_err *cause,
    int errnum, const char *func, const char *file, int line,
    const char *fmt, ...) YKSSH_PRINTF(7, 8) YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_err_makev(int code, struct ykssh_err *cause,
    int errnum, const char *func, const char *file, int line,
    const char *fmt, va_list ap) YKSSH_PRINTF(7, 0) YKSSH_MUST_CHECK;

struct ykssh_err *ykssh_err_wrap(struct ykssh_err *cause, const char *func,
    const char *file, int line, const char *fmt, ...) YKSSH_PRINTF(5, 6)
    YKSSH_MUST_CHECK;

#define YKSSH_ERR(code, ...) \
	ykssh_err_make((code), NULL, 0, __func__, __FILE__, __LINE__, \
	    __VA_ARGS__)
#define YKSSH_ERR_CAUSE(code, cause, ...) \
	ykssh_err_make((code), (cause), 0, __func__, __FILE__, __LINE__, \
	    __VA_ARGS__)
/* Adds context to `cause` and keeps its code. */
#define YKSSH_ERR_WRAP(cause, ...) \
	ykssh_err_wrap((cause), __func__, __FILE__, __LINE__, __VA_ARGS__)
/* Captures errno at the point of failure and appends strerror(errno). */
#define YKSSH_ERRNO(code, ...) \
	ykssh_err_make((code), NULL, errno, __func__, __FILE__, __LINE__, \
	    __VA_ARGS__)

/*
 * Attach a hint (how to fix it) to an error; replaces an earlier hint.
 * Returns `err` so it can be used inline:
 *	return ykssh_err_hint(YKSSH_ERR(...), "pass --force to replace it");
 * A NULL err is passed through.
 */
struct ykssh_err *ykssh_err_hint(struct ykssh_err *err, const char *fmt, ...)
    YKSSH_PRINTF(2, 3);

/* Frees an error and its cause chain.  NULL and the OOM sentinel are ok. */
void ykssh_err_free(struct ykssh_err *err);

/*
 * Accessors.  Strings are owned by the error and valid until it is freed.
 * The message includes ": <strerror(errno)>" when an errno was captured.
 */
int ykssh_err_code(const struct ykssh_err *err);
const char *ykssh_err_message(const struct ykssh_err *err);
const char *ykssh_err_hint_text(const struct ykssh_err *err); /* or NULL */
int ykssh_err_errno(const struct ykssh_err *err);
const struct ykssh_err *ykssh_err_cause(const struct ykssh_err *err);
const char *ykssh_err_func(const struct ykssh_err *err);
const char *ykssh_err_file(const struct ykssh_err *err);
int ykssh_err_line(const struct ykssh_err *err);

/* Non-zero if err or any error in its cause chain has `code`. */
int ykssh_err_has(const struct ykssh_err *err, int code);
/*
 * The first hint found walking from err down its causes (outer hints win),
 * or NULL.
 */
const char *ykssh_err_find_hint(const struct ykssh_err *err);
#endif /* YKSSH_ERROR_H */

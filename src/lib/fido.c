/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * FIDO2 tokens: discovery, opening, touch selection, device facts, PIN
 * management and the translation of libfido2 results into ykssh errors.
 * Enrollment is in fido-enroll.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fido.h>

#include "fido-internal.h"
#include "fido-io.h"

#define SELECT_TIMEOUT_MS	15000
#define SELECT_POLL_MS		50

/* Published Yubico AAGUIDs (FIDO metadata / Yubico's AAGUID list). */
static const struct {
	const char	*aaguid;
	const char	*model;
} models[] = {
	{ "cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series" },
	{ "fa2b99dc-9e39-4257-8f92-4a30d23c4118", "YubiKey 5 NFC" },
	{ "ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series" },
	{ "2fc0579f-8113-47ea-b116-bb5a8db9202a", "YubiKey 5 NFC" },
	{ "19083c3d-8383-4b18-bc03-8f1c9ab2fd1b", "YubiKey 5 Series" },
	{ "a25342c0-3cdc-4414-8e46-f4807fca511c", "YubiKey 5 NFC" },
	{ "f8a011f3-8c0a-4d15-8006-17111f9edc7d", "Security Key by Yubico" },
};

static void
format_aaguid(const uint8_t *p, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 0x0f];
	}
	out[o] = '\0';
}

const char *
ykssh_fido_model_for_aaguid(const uint8_t *aaguid)
{
	char s[37];
	size_t i;

	format_aaguid(aaguid, s);
	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(models[i].aaguid, s) == 0)
			return models[i].model;
	return NULL;
}

void
ykssh_fido_set_aaguid(struct ykssh_fido_dev *dev, const uint8_t *p,
    size_t len)
{
	const char *model;

	if (p == NULL || len != 16)
		return;
	format_aaguid(p, dev->aaguid);
	if ((model = ykssh_fido_model_for_aaguid(p)) != NULL) {
		dev->model = model;
		snprintf(dev->name, sizeof(dev->name), "%s", model);
	}
}

/* Names and hints for the CTAP statuses a user can meet. */
struct ykssh_err *
ykssh_fido_err(struct ykssh_fido_dev *dev, int rc, const char *what)
{
	const char *name = fido_strerr(rc);
	int retries = -1;

	switch (rc) {
	case FIDO_ERR_PIN_REQUIRED:
	case FIDO_ERR_UV_INVALID:
		return YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "%s: the token requires its PIN (%s)", what, name);
	case FIDO_ERR_PIN_NOT_SET:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_NOT_SET,
		    "%s: the token has no FIDO PIN (%s)", what, name),
		    "run ykssh enroll on a terminal to be offered to set one, "
		    "or use 'ykman fido access change-pin'");
	case FIDO_ERR_PIN_INVALID:
		if (dev != NULL &&
		    fido_dev_get_retry_count(dev->dev, &retries) != FIDO_OK)
			retries = -1;
		if (retries >= 0)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_INVALID,
			    "%s: wrong PIN, %d attempt%s left before the PIN "
			    "blocks", what, retries, retries == 1 ? "" : "s"),
			    "run the command again with the right PIN");
		return YKSSH_ERR(YKSSH_ERR_PIN_INVALID, "%s: wrong PIN (%s)",
		    what, name);
	case FIDO_ERR_PIN_AUTH_BLOCKED:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_INVALID,
		    "%s: three wrong PINs in a row (%s)", what, name),
		    "remove and re-insert the token, then try again");
	case FIDO_ERR_PIN_BLOCKED:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_BLOCKED,
		    "%s: the FIDO PIN is blocked (%s)", what, name),
		    "only a FIDO reset unblocks it, and it deletes every FIDO "
		    "credential on the token (ykman fido reset)");
	case FIDO_ERR_PIN_POLICY_VIOLATION:
		return YKSSH_ERR(YKSSH_ERR_PIN_POLICY,
		    "%s: the PIN does not meet the token's policy (4 to 63 "
		    "characters) (%s)", what, name);
	case FIDO_ERR_OPERATION_DENIED:
		return YKSSH_ERR(YKSSH_ERR_TOUCH_DENIED,
		    "%s: the token refused the operation (%s)", what, name);
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_ACTION_TIMEOUT:
	case FIDO_ERR_USER_PRESENCE_REQUIRED:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_TOUCH_TIMEOUT,
		    "%s: nobody touched the token in time (%s)", what, name),
		    "run it again and touch the key when asked");
	case FIDO_ERR_KEEPALIVE_CANCEL:
		return YKSSH_ERR(YKSSH_ERR_CANCELLED,
		    "%s: cancelled (%s)", what, name);
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s: the token does not support this key type (%s)", what,
		    name);
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_UNSUPPORTED_EXTENSION:
	case FIDO_ERR_INVALID_OPTION:
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s: the token does not support a requested option (%s)",
		    what, name);
	case FIDO_ERR_KEY_STORE_FULL:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s: the token has no room for another resident key (%s)",
		    what, name), "delete a resident key you no longer use");
	case FIDO_ERR_CREDENTIAL_EXCLUDED:
		return YKSSH_ERR(YKSSH_ERR_CREDENTIAL_EXISTS,
		    "%s: the token already holds this credential (%s)", what,
		    name);
	case FIDO_ERR_TX:
	case FIDO_ERR_RX:
	case FIDO_ERR_RX_NOT_CBOR:
	case FIDO_ERR_RX_INVALID_CBOR:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE,
		    "%s: lost contact with the token (%s)", what, name),
		    "check that the key is plugged in, then try again");
	case FIDO_ERR_INVALID_SIG:
		return YKSSH_ERR(YKSSH_ERR_ATTESTATION,
		    "%s: the token's signature does not verify (%s)", what,
		    name);
	default:
		return YKSSH_ERR(YKSSH_ERR_DEVICE, "%s failed: %s (%d)", what,
		    name, rc);
	}
}

/* YubiKeys report firmware 5.4.3 as 0x050403. */
static void
set_firmware(struct ykssh_fido_dev *dev, uint64_t v)
{
	if (v != 0 && v <= 0xffffff)
		snprintf(dev->firmware, sizeof(dev->firmware), "%u.%u.%u",
		    (unsigned)(v >> 16), (unsigned)((v >> 8) & 0xff),
		    (unsigned)(v & 0xff));
}

/* The getInfo libfido2 fetched when opening, as our I/O captured it. */
static void
learn_from_info(struct ykssh_fido_dev *dev, const struct ykssh_fido_info *fi)
{
	if (!fi->valid)
		return;
	if (fi->has_aaguid)
		ykssh_fido_set_aaguid(dev, fi->aaguid, sizeof(fi->aaguid));
	set_firmware(dev, fi->firmware);
}

const struct ykssh_fido_info *
ykssh_fido_dev_info(const struct ykssh_fido_dev *dev)
{
	return ykssh_fido_io_info(fido_dev_io_handle(dev->dev));
}

static void
touch_notice(void *arg)
{
	struct ykssh_fido_dev *dev = arg;

	ykssh_ctx_notice(dev->ctx, YKSSH_NOTICE_TOUCH, dev->name);
}

/* Opens one path with ykssh's I/O; fills the device facts from open. */
static struct ykssh_err *
open_path(struct ykssh_ctx *ctx, const char *path, const char *product,
    struct ykssh_fido_dev **devp)
{
	struct ykssh_fido_dev *d;
	fido_dev_io_t io;
	struct ykssh_err *err = NULL;
	int rc;

	*devp = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL ||
	    (d->dev = fido_dev_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot open %s", path);
		goto out;
	}
	d->ctx = ctx;
	d->model = "FIDO2 token";
	ykssh_fido_io_functions(&io);
	if ((rc = fido_dev_set_io_functions(d->dev, &io)) != FIDO_OK) {
		err = YKSSH_ERR(YKSSH_ERR_INTERNAL, "custom I/O: %s",
		    fido_strerr(rc));
		goto out;
	}
	errno = 0;
	if ((rc = fido_dev_open(d->dev, path)) != FIDO_OK) {
		if (errno == EACCES || errno == EPERM)
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PERMISSION,
			    "cannot open %s: permission denied", path),
			    "install ykssh's udev rules (70-ykssh.rules), "
			    "then re-plug the key");
		else if (errno == ENOENT || errno == ENODEV ||
		    errno == ECONNREFUSED || errno == ETIMEDOUT)
			err = ykssh_err_hint(YKSSH_ERR(
			    YKSSH_ERR_DEVICE_NOT_FOUND,
			    "no FIDO token answers at %s", path),
			    "check the path and that the key is plugged in");
		else
			err = YKSSH_ERR(YKSSH_ERR_DEVICE, "cannot open %s: %s%s%s",
			    path, fido_strerr(rc), errno != 0 ? ": " : "",
			    errno != 0 ? strerror(errno) : "");
		goto out;
	}
	if (!fido_dev_is_fido2(d->dev)) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s is a U2F-only token", path),
		    "ykssh needs a FIDO2 token (YubiKey 5 or Security Key)");
		goto out;
	}
	ykssh_fido_io_attach(fido_dev_io_handle(d->dev), ctx,
	    ykssh_ctx_token_timeout(ctx), touch_notice, d);
	snprintf(d->firmware, sizeof(d->firmware), "%u.%u.%u",
	    fido_dev_major(d->dev), fido_dev_minor(d->dev),
	    fido_dev_build(d->dev));
	/*
	 * What to call it in "Touch your ...": the model needs getInfo, which
	 * enrollment does not spend; the USB product string is free.
	 */
	if (product != NULL && strncmp(product, "YubiKey", 7) == 0)
		snprintf(d->name, sizeof(d->name), "YubiKey");
	else if (product != NULL && *product != '\0')
		snprintf(d->name, sizeof(d->name), "%s", product);
	else
		snprintf(d->name, sizeof(d->name), "security key");
	/* The model, when its AAGUID is known, names it better. */
	learn_from_info(d, ykssh_fido_io_info(fido_dev_io_handle(d->dev)));
	ykssh_debug(ctx, "opened %s (firmware %s, PIN %s)", path,
	    d->firmware, fido_dev_has_pin(d->dev) ? "set" : "not set");
	*devp = d;	/* transferred */
	d = NULL;
out:
	ykssh_fido_close(d);
	return err;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Several tokens: ask them all to wait for a touch (libfido2's touch
 * request: a dummy makeCredential), and take the first one touched, as
 * ssh-keygen does.  The others are cancelled when closed.
 */
static struct ykssh_err *
select_by_touch(struct ykssh_ctx *ctx, struct ykssh_fido_dev **devs,
    size_t n, struct ykssh_fido_dev **devp)
{
	int touched, rc, elapsed;
	size_t i, live = 0;

	for (i = 0; i < n; i++) {
		if (devs[i] == NULL)
			continue;
		if (fido_dev_get_touch_begin(devs[i]->dev) != FIDO_OK) {
			ykssh_fido_close(devs[i]);
			devs[i] = NULL;
		} else
			live++;
	}
	if (live == 0)
		return YKSSH_ERR(YKSSH_ERR_DEVICE,
		    "none of the %zu tokens accepted a touch request", n);
	ykssh_ctx_notice(ctx, YKSSH_NOTICE_SELECT_BY_TOUCH, NULL);
	for (elapsed = 0; elapsed < SELECT_TIMEOUT_MS;
	    elapsed += 200 + SELECT_POLL_MS * (int)live) {
		sleep_ms(200);
		if (ykssh_ctx_cancelled(ctx))
			return YKSSH_ERR(YKSSH_ERR_CANCELLED,
			    "token selection cancelled");
		for (i = 0; i < n; i++) {
			if (devs[i] == NULL)
				continue;
			rc = fido_dev_get_touch_status(devs[i]->dev, &touched,
			    SELECT_POLL_MS);
			if (rc != FIDO_OK) {
				ykssh_fido_close(devs[i]);
				devs[i] = NULL;
				continue;
			}
			if (touched) {
				*devp = devs[i];	/* transferred */
				devs[i] = NULL;
				return NULL;
			}
		}
	}
	return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_TOUCH_TIMEOUT,
	    "none of the %zu tokens was touched", live),
	    "touch the key you want to use, or name it with --device");
}

/*
 * Opens every candidate; one that opens is used as it is, several are
 * chosen among by touch.  The first failure is reported when none opens.
 */
static struct ykssh_err *
open_some(struct ykssh_ctx *ctx, const char *const *paths,
    const char *const *products, size_t n, struct ykssh_fido_dev **devp)
{
	struct ykssh_fido_dev *devs[YKSSH_FIDO_MAX_DEVICES] = { NULL };
	struct ykssh_err *err = NULL, *first = NULL, *e;
	size_t i, opened = 0;

	for (i = 0; i < n; i++) {
		if ((e = open_path(ctx, paths[i], products != NULL ?
		    products[i] : NULL, &devs[i])) == NULL)
			opened++;
		else if (first == NULL)
			first = e;
		else
			ykssh_err_free(e);
	}
	if (opened == 0) {
		err = first;
		first = NULL;
	} else if (opened == 1) {
		for (i = 0; i < n; i++)
			if (devs[i] != NULL) {
				*devp = devs[i];	/* transferred */
				devs[i] = NULL;
			}
	} else
		err = select_by_touch(ctx, devs, n, devp);
	for (i = 0; i < n; i++)
		ykssh_fido_close(devs[i]);
	ykssh_err_free(first);
	return err;
}

struct ykssh_err *
ykssh_fido_open(struct ykssh_ctx *ctx, const char *const *paths,
    size_t npaths, struct ykssh_fido_dev **devp)
{
	const char *found[YKSSH_FIDO_MAX_DEVICES], *products[
	    YKSSH_FIDO_MAX_DEVICES];
	fido_dev_info_t *list = NULL;
	struct ykssh_err *err = NULL;
	size_t n = 0, i;
	int rc;

	*devp = NULL;
	fido_init(0);
	if (npaths > YKSSH_FIDO_MAX_DEVICES)
		return YKSSH_ERR(YKSSH_ERR_USAGE,
		    "at most %d tokens can be named", YKSSH_FIDO_MAX_DEVICES);
	if (npaths == 1)
		return open_path(ctx, paths[0], NULL, devp);
	if (npaths > 1)
		return open_some(ctx, paths, NULL, npaths, devp);

	if ((list = fido_dev_info_new(YKSSH_FIDO_MAX_DEVICES)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot list tokens");
	if ((rc = fido_dev_info_manifest(list, YKSSH_FIDO_MAX_DEVICES,
	    &n)) != FIDO_OK) {
		err = YKSSH_ERR(YKSSH_ERR_DEVICE, "cannot list tokens: %s",
		    fido_strerr(rc));
		goto out;
	}
	if (n == 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE_NOT_FOUND,
		    "no FIDO token found"), "plug in your YubiKey; if it is "
		    "plugged in, run 'ykssh doctor'");
		goto out;
	}
	for (i = 0; i < n; i++) {
		found[i] = fido_dev_info_path(fido_dev_info_ptr(list, i));
		products[i] = fido_dev_info_product_string(
		    fido_dev_info_ptr(list, i));
	}
	err = open_some(ctx, found, products, n, devp);
out:
	fido_dev_info_free(&list, YKSSH_FIDO_MAX_DEVICES);
	return err;
}

void
ykssh_fido_close(struct ykssh_fido_dev *dev)
{
	if (dev == NULL)
		return;
	if (dev->dev != NULL) {
		/* As OpenSSH's sk_close: leave nothing pending on the token. */
		(void)fido_dev_cancel(dev->dev);
		(void)fido_dev_close(dev->dev);
		fido_dev_free(&dev->dev);
	}
	fido_cbor_info_free(&dev->info);
	free(dev->path);
	free(dev);
}

const char *
ykssh_fido_path(const struct ykssh_fido_dev *dev)
{
	return dev->path;
}

const char *
ykssh_fido_model(const struct ykssh_fido_dev *dev)
{
	return dev->model;
}

const char *
ykssh_fido_aaguid(const struct ykssh_fido_dev *dev)
{
	return dev->aaguid;
}

const char *
ykssh_fido_firmware(const struct ykssh_fido_dev *dev)
{
	return dev->firmware;
}

int
ykssh_fido_has_pin(const struct ykssh_fido_dev *dev)
{
	return fido_dev_has_pin(dev->dev);
}

int
ykssh_fido_supports_cred_prot(const struct ykssh_fido_dev *dev)
{
	return fido_dev_supports_cred_prot(dev->dev);
}

int
ykssh_fido_supports_credman(const struct ykssh_fido_dev *dev)
{
	return fido_dev_supports_credman(dev->dev);
}

/* Full getInfo, fetched only when something asks for it. */
static int
fetch_info(struct ykssh_fido_dev *dev)
{
	if (dev->info != NULL)
		return 0;
	if ((dev->info = fido_cbor_info_new()) == NULL)
		return -1;
	if (fido_dev_get_cbor_info(dev->dev, dev->info) != FIDO_OK) {
		fido_cbor_info_free(&dev->info);
		return -1;
	}
	ykssh_fido_set_aaguid(dev, fido_cbor_info_aaguid_ptr(dev->info),
	    fido_cbor_info_aaguid_len(dev->info));
	set_firmware(dev, fido_cbor_info_fwversion(dev->info));
	return 0;
}

int
ykssh_fido_supports_type(const struct ykssh_fido_dev *dev,
    enum ykssh_keytype type)
{
	struct ykssh_fido_dev *d = (struct ykssh_fido_dev *)(uintptr_t)dev;
	int want, i, n;

	const struct ykssh_fido_info *fi = ykssh_fido_dev_info(dev);

	if (type == YKSSH_KEY_ED25519_SK)
		want = COSE_EDDSA;
	else if (type == YKSSH_KEY_ECDSA_SK)
		want = COSE_ES256;
	else
		return 0;
	if (fi->valid && fi->algorithms_listed)
		return want == COSE_EDDSA ? fi->eddsa : fi->es256;
	if (fi->valid)
		return want == COSE_ES256;	/* CTAP 2.0: ES256 only */
	if (fetch_info(d) != 0)
		return -1;
	n = (int)fido_cbor_info_algorithm_count(d->info);
	/* CTAP 2.0 tokens do not list algorithms: ES256 is mandatory. */
	if (n == 0)
		return want == COSE_ES256;
	for (i = 0; i < n; i++)
		if (fido_cbor_info_algorithm_cose(d->info, (size_t)i) == want)
			return 1;
	return 0;
}

unsigned long
ykssh_fido_requests(const struct ykssh_fido_dev *dev)
{
	return ykssh_fido_io_requests(fido_dev_io_handle(dev->dev));
}

unsigned long
ykssh_fido_ctap_commands(const struct ykssh_fido_dev *dev, unsigned cmd)
{
	return ykssh_fido_io_ctap_commands(fido_dev_io_handle(dev->dev), cmd);
}

struct ykssh_err *
ykssh_fido_pin_retries(struct ykssh_fido_dev *dev, int *retriesp)
{
	int rc;

	*retriesp = -1;
	if ((rc = fido_dev_get_retry_count(dev->dev, retriesp)) != FIDO_OK)
		return ykssh_fido_err(dev, rc, "getPINRetries");
	return NULL;
}

struct ykssh_err *
ykssh_fido_set_pin(struct ykssh_fido_dev *dev, const char *new_pin,
    const char *old_pin)
{
	size_t len = strlen(new_pin);
	int rc;

	if (len < 4 || len > 63)
		return YKSSH_ERR(YKSSH_ERR_PIN_POLICY,
		    "a FIDO PIN has 4 to 63 characters, this one has %zu",
		    len);
	ykssh_fido_io_rearm_touch(fido_dev_io_handle(dev->dev));
	if ((rc = fido_dev_set_pin(dev->dev, new_pin, old_pin)) != FIDO_OK)
		return ykssh_fido_err(dev, rc,
		    old_pin != NULL ? "changePIN" : "setPIN");
	ykssh_log(dev->ctx, YKSSH_LOG_INFO, "FIDO PIN %s on %s",
	    old_pin != NULL ? "changed" : "set", dev->path);
	return NULL;
}

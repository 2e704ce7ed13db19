/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Persistent token state: one CBOR map in a file, replaced atomically
 * (temp file, fsync, rename, fsync of the directory).
 *
 *	{1: version (1), 2: secret(32), 3: pinHash(16) (only when set),
 *	 4: pinRetries, 5: signCounter, 6: [rk...], 7: rkSeq}
 *	rk = {1: id, 2: rpId, 3: rpName?, 4: userId, 5: userName?,
 *	      6: displayName?, 7: alg, 8: priv(32), 9: credProtect, 10: seq}
 *
 * The file holds private keys in the clear: it is test state, written
 * 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

#define STATE_VERSION	1
#define STATE_MAX	(1024 * 1024)

void
rk_clear(struct rk *rk)
{
	free(rk->rp_id);
	free(rk->rp_name);
	free(rk->user_name);
	free(rk->user_display);
	OPENSSL_cleanse(rk, sizeof(*rk));
}

static int
put_opt_text(cbor_item_t *m, uint64_t k, const char *s)
{
	if (s == NULL)
		return 0;
	return cb_put_int(m, k, cb_text(s));
}

static cbor_item_t *
rk_encode(const struct rk *rk)
{
	cbor_item_t *m;

	if ((m = cbor_new_definite_map(10)) == NULL)
		return NULL;
	/* cb_put* consume their items even on failure. */
	if (cb_put_int(m, 1, cb_bytes(rk->id, sizeof(rk->id))) < 0 ||
	    cb_put_int(m, 2, cb_text(rk->rp_id)) < 0 ||
	    put_opt_text(m, 3, rk->rp_name) < 0 ||
	    cb_put_int(m, 4, cb_bytes(rk->user_id, rk->user_id_len)) < 0 ||
	    put_opt_text(m, 5, rk->user_name) < 0 ||
	    put_opt_text(m, 6, rk->user_display) < 0 ||
	    cb_put_int(m, 7, cb_int(rk->alg)) < 0 ||
	    cb_put_int(m, 8, cb_bytes(rk->priv, sizeof(rk->priv))) < 0 ||
	    cb_put_int(m, 9, cb_int(rk->cred_protect)) < 0 ||
	    cb_put_int(m, 10, cb_int((int64_t)rk->seq)) < 0) {
		cb_free_wipe(&m);
		return NULL;
	}
	return m;
}

static int
get_opt_text(const cbor_item_t *m, uint64_t k, char **out)
{
	const cbor_item_t *v = cb_map_get(m, k);

	*out = NULL;
	if (v == NULL)
		return 0;
	return cb_get_text(v, out);
}

static int
rk_decode(const cbor_item_t *m, struct rk *rk)
{
	const uint8_t *p;
	size_t len;
	int64_t alg;
	uint64_t cp, seq;

	memset(rk, 0, sizeof(*rk));
	if (cb_get_bytes(cb_map_get(m, 1), &p, &len) < 0 || len != RK_ID_LEN)
		goto fail;
	memcpy(rk->id, p, len);
	if (cb_get_text(cb_map_get(m, 2), &rk->rp_id) < 0 ||
	    get_opt_text(m, 3, &rk->rp_name) < 0 ||
	    get_opt_text(m, 5, &rk->user_name) < 0 ||
	    get_opt_text(m, 6, &rk->user_display) < 0)
		goto fail;
	if (cb_get_bytes(cb_map_get(m, 4), &p, &len) < 0 ||
	    len > MAX_USER_ID_LEN)
		goto fail;
	memcpy(rk->user_id, p, len);
	rk->user_id_len = len;
	if (cb_get_int(cb_map_get(m, 7), &alg) < 0 ||
	    (alg != COSE_ES256 && alg != COSE_EDDSA))
		goto fail;
	rk->alg = (int)alg;
	if (cb_get_bytes(cb_map_get(m, 8), &p, &len) < 0 || len != 32)
		goto fail;
	memcpy(rk->priv, p, 32);
	if (cb_get_uint(cb_map_get(m, 9), &cp) < 0 || cp > 3 ||
	    cb_get_uint(cb_map_get(m, 10), &seq) < 0)
		goto fail;
	rk->cred_protect = (uint8_t)cp;
	rk->seq = seq;
	if (sha256(rk->rp_id, strlen(rk->rp_id), rk->rp_id_hash) < 0)
		goto fail;
	rk->used = 1;
	return 0;
fail:
	rk_clear(rk);
	return -1;
}

static int
read_file(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t n;
	int r = -1;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? 1 : -1;
	if ((buf = malloc(STATE_MAX)) == NULL)
		goto out;
	n = fread(buf, 1, STATE_MAX, f);
	if (ferror(f) || n == STATE_MAX)
		goto out;
	*out = buf;
	*out_len = n;
	buf = NULL;	/* transferred */
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

/* Returns 0 when loaded, 1 when there is no file, -1 on a bad file. */
int
state_load(struct fidosim *tok)
{
	cbor_item_t *st = NULL;
	const cbor_item_t *rks;
	uint8_t *buf = NULL;
	const uint8_t *p;
	size_t len = 0, i, n;
	uint64_t v;
	int r = -1, rc;

	if (tok->state_path == NULL)
		return 1;
	if ((rc = read_file(tok->state_path, &buf, &len)) != 0) {
		r = rc;
		goto out;
	}
	if (cb_parse(buf, len, &st) < 0 || !cbor_isa_map(st))
		goto out;
	if (cb_get_uint(cb_map_get(st, 1), &v) < 0 || v != STATE_VERSION)
		goto out;
	if (cb_get_bytes(cb_map_get(st, 2), &p, &len) < 0 || len != 32)
		goto out;
	memcpy(tok->secret, p, 32);
	tok->pin_set = 0;
	if (cb_map_get(st, 3) != NULL) {
		if (cb_get_bytes(cb_map_get(st, 3), &p, &len) < 0 || len != 16)
			goto out;
		memcpy(tok->pin_hash, p, 16);
		tok->pin_set = 1;
	}
	if (cb_get_uint(cb_map_get(st, 4), &v) < 0 || v > PIN_MAX_RETRIES)
		goto out;
	tok->pin_retries = (uint8_t)v;
	if (cb_get_uint(cb_map_get(st, 5), &v) < 0 || v > UINT32_MAX)
		goto out;
	tok->counter = (uint32_t)v;
	if (cb_get_uint(cb_map_get(st, 7), &v) < 0)
		goto out;
	tok->rk_seq = v;
	rks = cb_map_get(st, 6);
	if (rks == NULL || !cbor_isa_array(rks))
		goto out;
	n = cbor_array_size(rks);
	if (n > tok->rk_cap) {
		fprintf(stderr, "fidosim: state holds %zu credentials, more "
		    "than --rk-capacity %u\n", n, tok->rk_cap);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (rk_decode(cbor_array_handle(rks)[i], &tok->rks[i]) < 0)
			goto out;
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "fidosim: bad state file\n");
	cb_free_wipe(&st);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return r;
}

static int
fsync_dir(const char *path)
{
	char *copy;
	int fd, r = -1;

	if ((copy = strdup(path)) == NULL)
		return -1;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY)) >= 0) {
		r = fsync(fd);
		close(fd);
	}
	free(copy);
	return r;
}

int
state_save(struct fidosim *tok)
{
	cbor_item_t *st = NULL, *arr = NULL, *rk;
	uint8_t *buf = NULL;
	size_t len = 0, off, i;
	char *tmp = NULL;
	ssize_t w;
	int fd = -1, r = -1;

	if (tok->state_path == NULL || tok->cfg.no_persist)
		return 0;
	if ((st = cbor_new_definite_map(7)) == NULL ||
	    (arr = cbor_new_definite_array(tok->rk_cap)) == NULL)
		goto out;
	for (i = 0; i < tok->rk_cap; i++) {
		if (!tok->rks[i].used)
			continue;
		if ((rk = rk_encode(&tok->rks[i])) == NULL)
			goto out;
		if (!cbor_array_push(arr, rk)) {
			cb_free_wipe(&rk);
			goto out;
		}
		cbor_decref(&rk);	/* the array holds it */
	}
	if (cb_put_int(st, 1, cb_int(STATE_VERSION)) < 0 ||
	    cb_put_int(st, 2, cb_bytes(tok->secret, 32)) < 0 ||
	    (tok->pin_set && cb_put_int(st, 3, cb_bytes(tok->pin_hash,
	    16)) < 0) ||
	    cb_put_int(st, 4, cb_int(tok->pin_retries)) < 0 ||
	    cb_put_int(st, 5, cb_int(tok->counter)) < 0 ||
	    cb_put_int(st, 7, cb_int((int64_t)tok->rk_seq)) < 0)
		goto out;
	if (cb_put_int(st, 6, arr) < 0) {
		arr = NULL;
		goto out;
	}
	arr = NULL;	/* transferred */
	if (cb_encode(st, &buf, &len) < 0)
		goto out;
	if (asprintf(&tmp, "%s.tmp", tok->state_path) < 0) {
		tmp = NULL;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		goto out;
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, buf + off, len - off)) <= 0)
			goto out;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, tok->state_path) < 0)
		goto out;
	(void)fsync_dir(tok->state_path);
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "fidosim: cannot write state file\n");
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	}
	free(tmp);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	cb_free_wipe(&arr);
	cb_free_wipe(&st);
	return r;
}

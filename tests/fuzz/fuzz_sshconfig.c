/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzzes the ssh_config editor (sshconfig-*.c) with arbitrary bytes:
 *  - nothing crashes or leaks (ASan/UBSan);
 *  - parse-then-print returns the input byte for byte;
 *  - applying an entry twice gives identical bytes;
 *  - when the input held no block of our label, apply-then-remove
 *    returns the input byte for byte;
 *  - the block read back (ykssh_sshconfig_list, _block_entry) writes
 *    the same bytes again (enroll --backup and revoke rebuild entries
 *    that way); one entry has a backup token's second identity.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshconfig-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct ykssh_sshconfig_entry entry = {
	.kind = YKSSH_SSHCONFIG_FIDO2, .label = "work",
	.key_id = "SHA256:fuzz", .identity_file = "~/.ssh/id_ed25519_sk",
};

static const struct ykssh_sshconfig_entry piv = {
	.kind = YKSSH_SSHCONFIG_PIV, .label = "piv",
	.host = "bitbucket.org-piv", .hostname = "bitbucket.org",
	.identity_file = "~/.ssh/piv 9a.pub", .persist = "5m",
	.pkcs11_provider = "/usr/lib/x86_64-linux-gnu/libykcs11.so",
};

static const char *const backup_ids[] = { "/keys/100% backup" };

static const struct ykssh_sshconfig_entry backup = {
	.kind = YKSSH_SSHCONFIG_FIDO2, .label = "pair",
	.host = "bitbucket.org-pair", .hostname = "bitbucket.org",
	.port = 7999, .key_id = "SHA256:one,SHA256:two",
	.identity_file = "~/.ssh/id_ed25519_sk_pair",
	.more_identity_files = backup_ids, .nmore_identity_files = 1,
};

static void
check_roundtrip(const char *d, size_t n)
{
	struct sc_config *cfg = NULL;
	struct ykssh_err *e;
	size_t i, off = 0;

	if ((e = ykssh_sc_parse(d, n, &cfg)) != NULL) {
		ykssh_err_free(e);	/* only NOMEM */
		return;
	}
	for (i = 0; i < cfg->n; i++) {
		if (cfg->lines[i].raw != d + off ||
		    memcmp(cfg->lines[i].raw, d + off, cfg->lines[i].len) != 0)
			abort();
		off += cfg->lines[i].len;
	}
	if (off != n)
		abort();
	ykssh_sc_free(cfg);
}

static int
has_label(const char *d, size_t n, const char *label, int *ok)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_err *e;
	size_t nb = 0, i;
	int found = 0;

	*ok = 0;
	if ((e = ykssh_sshconfig_list(d, n, &b, &nb)) != NULL) {
		ykssh_err_free(e);
		return 0;
	}
	*ok = 1;
	for (i = 0; i < nb; i++)
		found |= strcmp(b[i].label, label) == 0;
	ykssh_sshconfig_blocks_free(b, nb);
	return found;
}

/* The entry read back from the block writes the same bytes. */
static void
check_readback(const char *a, size_t na, const char *label,
    const struct ykssh_sshconfig_opts *o)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_sshconfig_entry re;
	struct ykssh_err *e;
	char *c = NULL;
	size_t nb = 0, nc, i;

	if ((e = ykssh_sshconfig_list(a, na, &b, &nb)) != NULL)
		abort();
	for (i = 0; i < nb && strcmp(b[i].label, label) != 0; i++)
		;
	if (i == nb || ykssh_sshconfig_block_entry(&b[i], &re) != NULL)
		abort();
	if ((e = ykssh_sshconfig_apply_text(a, na, &re, o, &c, &nc,
	    NULL)) != NULL || nc != na || memcmp(a, c, na) != 0)
		abort();
	free(c);
	ykssh_sshconfig_blocks_free(b, nb);
}

static void
check_edit(const char *d, size_t n, const struct ykssh_sshconfig_entry *en)
{
	struct ykssh_sshconfig_opts o = {
		.flags = YKSSH_SSHCONFIG_NO_INCLUDE,
		.ssh_dir = "/nonexistent", .home = "/nonexistent",
	};
	struct ykssh_err *e;
	char *a = NULL, *b = NULL, *r = NULL;
	size_t na, nb, nr;
	int present, ok;

	present = has_label(d, n, en->label, &ok);
	if ((e = ykssh_sshconfig_apply_text(d, n, en, &o, &a, &na,
	    NULL)) != NULL) {
		ykssh_err_free(e);
		return;
	}
	if (!ok)
		abort();	/* markers were broken, yet apply went on */
	if ((e = ykssh_sshconfig_apply_text(a, na, en, &o, &b, &nb,
	    NULL)) != NULL || nb != na || memcmp(a, b, na) != 0)
		abort();	/* not idempotent */
	check_readback(a, na, en->label, &o);
	if ((e = ykssh_sshconfig_remove_text(a, na, en->label, &o, &r,
	    &nr)) != NULL)
		abort();
	if (!present && (nr != n || memcmp(r, d, n) != 0))
		abort();	/* apply + remove lost or added bytes */
	free(a);
	free(b);
	free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;

	if (size > 65536)
		return 0;
	check_roundtrip(d, size);
	check_edit(d, size, &entry);
	check_edit(d, size, &piv);
	check_edit(d, size, &backup);
	return 0;
}

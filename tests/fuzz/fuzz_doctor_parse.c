/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz ykssh doctor's readers of what ssh -G, ssh-add -L and ssh -v print
 * (ykssh_dr_parse_sshg, ykssh_dr_parse_agent, ykssh_dr_classify_auth).
 * Whatever parses must hold bounded, consistent values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dr_agentkey *k = NULL;
	struct ykssh_err *err;
	struct dr_sshg g;
	char *fp = NULL, *line = NULL;
	size_t n = 0, i;
	enum dr_auth a;

	if ((err = ykssh_dr_parse_sshg(text, size, &g)) == NULL) {
		CHECK(g.user != NULL && g.hostname != NULL && g.port != NULL);
		CHECK(g.nidfiles <= DR_MAX_FILES && g.nkhfiles <= DR_MAX_FILES);
		for (i = 0; i < g.nidfiles; i++)
			CHECK(strlen(g.idfiles[i]) > 0);
		ykssh_dr_sshg_clear(&g);
	}
	ykssh_err_free(err);
	if ((err = ykssh_dr_parse_agent(text, size, &k, &n)) == NULL) {
		CHECK(n <= 256);
		for (i = 0; i < n; i++)
			CHECK(strncmp(k[i].fingerprint, "SHA256:", 7) == 0);
		ykssh_dr_agent_free(k, n);
	}
	ykssh_err_free(err);
	a = ykssh_dr_classify_auth(text, size, size > 0 && data[0] & 1, &fp,
	    &line);
	CHECK(a >= DR_AUTH_OK && a <= DR_AUTH_OTHER);
	if (line != NULL)
		for (i = 0; line[i] != '\0'; i++)
			CHECK((unsigned char)line[i] >= 0x20);
	free(fp);
	free(line);
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading a .pub file; see sshkey.h. */
#include <stdlib.h>

#include "ykssh/atomicfile.h"
#include "ykssh/sshkey.h"

#define PUB_MAX		(64 * 1024)

struct ykssh_err *
ykssh_sshkey_load_public(const char *path, struct ykssh_sshkey **keyp,
    char **commentp, int *existsp)
{
	struct ykssh_err *err;
	char *data = NULL;
	size_t len;

	if ((err = ykssh_atomicfile_read(path, PUB_MAX, &data, &len,
	    existsp)) != NULL)
		return err;
	if (!*existsp) {
		free(data);
		return NULL;
	}
	err = ykssh_sshkey_parse_public(data, keyp, commentp);
	free(data);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot read %s", path);
	return NULL;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* The attestation trust directory and result output; see trust.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"
#include "ykssh/piv.h"
#include "ykssh/settings.h"

struct ykssh_err *
cli_trust_load(const char *home, const char *dir,
    struct ykssh_attest_trust **tp)
{
	struct ykssh_settings *s = NULL;
	struct ykssh_err *err;
	const char *env = getenv(CLI_TRUST_ENV);

	*tp = NULL;
	if (dir == NULL && env != NULL && *env != '\0')
		dir = env;
	if (dir == NULL) {
		if ((err = ykssh_settings_load(home, &s)) != NULL)
			return err;
		dir = s->trust_dir;
	}
	err = ykssh_attest_trust_load(dir, home, tp);
	ykssh_settings_free(s);
	return err;
}

void
cli_attest_line(const struct ykssh_attest_result *a, char *buf, size_t len)
{
	if (a->status == YKSSH_ATTEST_VERIFIED)
		snprintf(buf, len, "verified (root %s)", a->root != NULL ?
		    a->root : "?");
	else
		snprintf(buf, len, "%s: %s", ykssh_attest_status_name(
		    a->status), a->reason != NULL ? a->reason : "?");
}

json_t *
cli_attest_json(const struct ykssh_attest_result *a)
{
	json_t *o;
	const char *pin, *touch;

	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}",
	    "status", ykssh_attest_status_name(a->status),
	    "reason", a->reason, "subject", a->subject, "root", a->root,
	    "file", a->path);
	if (o == NULL)
		return NULL;
	if (a->aaguid[0] != '\0')
		json_object_set_new(o, "aaguid", json_string(a->aaguid));
	if (a->serial != 0)
		json_object_set_new(o, "serial", json_integer(a->serial));
	if (a->firmware[0] != '\0')
		json_object_set_new(o, "firmware", json_string(a->firmware));
	if (a->pin_policy >= 0 && (pin = ykssh_piv_pin_policy_name(
	    (uint8_t)a->pin_policy)) != NULL)
		json_object_set_new(o, "pin_policy", json_string(pin));
	if (a->touch_policy >= 0 && (touch = ykssh_piv_touch_policy_name(
	    (uint8_t)a->touch_policy)) != NULL)
		json_object_set_new(o, "touch_policy", json_string(touch));
	return o;
}

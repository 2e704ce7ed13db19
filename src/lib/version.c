/* SPDX-License-Identifier: BSD-2-Clause */
#include "ykssh/version.h"

const char *
ykssh_version(void)
{
	return YKSSH_VERSION_STRING;
}

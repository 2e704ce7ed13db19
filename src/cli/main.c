/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>

#include "ykssh/version.h"

int
main(void)
{
	printf("ykssh %s\n", ykssh_version());
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef YKSSH_VERSION_H
#define YKSSH_VERSION_H

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *ykssh_version(void);

#endif /* YKSSH_VERSION_H */

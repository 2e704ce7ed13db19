/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef YKSSH_VERSION_H
#define YKSSH_VERSION_H

#include <stddef.h>

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *ykssh_version(void);

/*
 * ykssh and the libraries it uses, for bug reports: name, version in use
 * (the runtime version where the library reports one, else the version
 * built against) and whether that version is the runtime one.
 */
struct ykssh_component {
	const char	*name;
	const char	*version;
	int		 runtime;
};

#define YKSSH_VERSION_COMPONENTS_MAX	8

/*
 * Fills up to `max` entries of `out` and returns how many there are in all
 * (at most YKSSH_VERSION_COMPONENTS_MAX).  The strings are static.
 */
size_t ykssh_version_components(struct ykssh_component *out, size_t max);

#endif /* YKSSH_VERSION_H */

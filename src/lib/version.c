/* SPDX-License-Identifier: BSD-2-Clause */
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <ykpiv.h>

#include "ykssh/version.h"

const char *
ykssh_version(void)
{
	return YKSSH_VERSION_STRING;
}

size_t
ykssh_version_components(struct ykssh_component *out, size_t max)
{
	const struct ykssh_component c[] = {
		{ "ykssh", YKSSH_VERSION_STRING, 1 },
		/* libfido2 1.12 has no runtime version query */
		{ "libfido2", YKSSH_FIDO2_VERSION, 0 },
		{ "libykpiv", ykpiv_check_version(NULL), 1 },
		{ "openssl", OpenSSL_version(OPENSSL_VERSION_STRING), 1 },
		/*
		 * Built-against: asking libcurl at run time would load it
		 * and its 30 dependencies (4.7 MB) into every command.
		 */
		{ "libcurl", LIBCURL_VERSION, 0 },
		{ "jansson", jansson_version_str(), 1 },
		{ "libcbor", YKSSH_CBOR_VERSION, 0 },
	};
	size_t i, n = sizeof(c) / sizeof(c[0]);

	_Static_assert(sizeof(c) / sizeof(c[0]) <=
	    YKSSH_VERSION_COMPONENTS_MAX, "raise YKSSH_VERSION_COMPONENTS_MAX");
	for (i = 0; i < n && i < max; i++)
		out[i] = c[i];
	return n;
}

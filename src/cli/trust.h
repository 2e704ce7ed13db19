/* SPDX-License-Identifier: BSD-2-Clause */
/* The attestation trust directory for enroll, verify and list (trust.c). */
#ifndef YKSSH_CLI_TRUST_H
#define YKSSH_CLI_TRUST_H

#include "cli.h"
#include "ykssh/attest.h"

#define CLI_TRUST_ENV	"YKSSH_TRUST_DIR"

/*
 * Loads the trusted attestation roots from, in this order, `dir` (the
 * --trust-dir option), $YKSSH_TRUST_DIR, the trust-dir setting of
 * ~/.config/ykssh/config, else the default directories (attest.h).
 */
struct ykssh_err *cli_trust_load(const char *home, const char *dir,
    struct ykssh_attest_trust **tp) YKSSH_MUST_CHECK;
/* One human line for a result: "verified (ROOT)", "untrusted: REASON". */
void cli_attest_line(const struct ykssh_attest_result *a, char *buf,
    size_t len);
/* The JSON object for a result. */
json_t *cli_attest_json(const struct ykssh_attest_result *a);

#endif /* YKSSH_CLI_TRUST_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Asking the user: secrets without echo from the terminal, or through an
 * SSH_ASKPASS program when there is no terminal (or SSH_ASKPASS_REQUIRE is
 * "force"), exactly as ssh does.  Never from argv or the environment.
 */
#ifndef YKSSH_CLI_PROMPT_H
#define YKSSH_CLI_PROMPT_H

#include <signal.h>

#include "cli.h"
#include "ykssh/secret.h"

/*
 * Ctrl-C handling for token operations: the first SIGINT sets *flag (the
 * library cancels the token request and unwinds), a second one exits.
 */
void cli_catch_interrupt(volatile sig_atomic_t *flag);
void cli_release_interrupt(void);
/*
 * Around a token operation: Ctrl-C (first) sets the context's cancel flag,
 * which cancels the request on the token; end restores the defaults.
 */
void cli_token_begin(struct cli *cli);
void cli_token_end(struct cli *cli);
/* A PIN callback for the library: cli_read_secret(). */
struct ykssh_err *cli_get_pin(void *arg, const char *prompt,
    struct ykssh_secret *pin);
/* Records a --device argument; a usage error (64) past max, else 0. */
int cli_add_device(const struct cli *cli, const struct cli_cmd *cmd,
    const char **devices, size_t *n, size_t max, const char *arg);

/*
 * Reads a secret into s (wiped first).  Errors: CANCELLED (Ctrl-C, EOF,
 * askpass cancelled), PIN_REQUIRED (no terminal and no SSH_ASKPASS: the
 * hint says how to provide one), NO_BUFFER_SPACE (too long).
 */
struct ykssh_err *cli_read_secret(const char *prompt, struct ykssh_secret *s)
    YKSSH_MUST_CHECK;
/* A line of plain text (echoed on a terminal); *textp is malloc'd. */
struct ykssh_err *cli_read_text(const char *prompt, char **textp)
    YKSSH_MUST_CHECK;
/* Asks twice; the two must match. */
struct ykssh_err *cli_read_new_secret(const char *what,
    struct ykssh_secret *s) YKSSH_MUST_CHECK;
/* y/N question on the terminal, or askpass in confirm mode; 1 = yes. */
int cli_confirm(const char *question);

#endif /* YKSSH_CLI_PROMPT_H */

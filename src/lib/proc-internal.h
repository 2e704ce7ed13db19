/* SPDX-License-Identifier: BSD-2-Clause */
/* Running a helper program and collecting its output (proc.c). */
#ifndef YKSSH_PROC_INTERNAL_H
#define YKSSH_PROC_INTERNAL_H

#include <stddef.h>

#include "ykssh/error.h"

/*
 * The child gets a process group of its own, killed whole at the
 * deadline.  Not for a child that may read a PIN from the terminal: a
 * background group stops on reading it (SIGTTIN).
 */
#define YKSSH_PROC_OWN_GROUP	0x1

/*
 * Runs argv (PATH searched) in envp (NULL: ours) with stdin from
 * /dev/null, collecting stdout and stderr (at most 1 MiB each), killing
 * it after timeout_ms.  *statusp is its exit status, or -1 when killed by
 * a signal or the timeout (*timed_outp).  Errors: SYSTEM (it could not be
 * started), NOMEM.
 */
struct ykssh_err *ykssh_proc_run(const char *const *argv, char *const *envp,
    int timeout_ms, int flags, char **outp, size_t *outlenp, char **errp,
    size_t *errlenp, int *statusp, int *timed_outp) YKSSH_MUST_CHECK;

#endif /* YKSSH_PROC_INTERNAL_H */

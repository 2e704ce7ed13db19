/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the FIDO2 and PIV enrollments (enroll.c, enroll-piv.c). */
#ifndef YKSSH_ENROLL_INTERNAL_H
#define YKSSH_ENROLL_INTERNAL_H

#include "ykssh/error.h"

/*
 * A file enroll is about to write: absent, or (with force) a regular file
 * to replace after a backup; never a symbolic link or anything else.
 * Errors: FILE_EXISTS (with the --force hint), UNSAFE_FILE, SYSTEM.
 */
struct ykssh_err *ykssh_enroll_check_target(const char *path, int force)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_ENROLL_INTERNAL_H */

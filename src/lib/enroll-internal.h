/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the FIDO2 and PIV enrollments (enroll.c, enroll-piv.c). */
#ifndef YKSSH_ENROLL_INTERNAL_H
#define YKSSH_ENROLL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/error.h"

/*
 * A file enroll is about to write: absent, or (with force) a regular file
 * to replace after a backup; never a symbolic link or anything else.
 * Errors: FILE_EXISTS (with the --force hint), UNSAFE_FILE, SYSTEM.
 */
struct ykssh_err *ykssh_enroll_check_target(const char *path, int force)
    YKSSH_MUST_CHECK;

struct ykssh_piv;
struct ykssh_piv_mgmt_status;
struct ykssh_enroll_ui;

/*
 * PEM of the slot's attestation certificate (DER) followed by the F9
 * certificate (f NULL: none): the chain enroll --piv writes.
 */
struct ykssh_err *ykssh_enroll_piv_chain_pem(const uint8_t *c, size_t clen,
    const uint8_t *f, size_t flen, char **pemp, size_t *lenp)
    YKSSH_MUST_CHECK;
/*
 * Management-key authentication as enroll --piv does it: factory key,
 * PIN-protected key after the PIN (ui->get_pin), else the key in hex
 * (ui->get_pin).  *pin_usedp says whether the PIN was verified.
 */
struct ykssh_err *ykssh_enroll_piv_auth(const struct ykssh_enroll_ui *ui,
    struct ykssh_piv *piv, const struct ykssh_piv_mgmt_status *ms,
    int *pin_usedp) YKSSH_MUST_CHECK;

#endif /* YKSSH_ENROLL_INTERNAL_H */

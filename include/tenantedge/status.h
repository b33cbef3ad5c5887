/*
 * status.h: the one result type shared by handlers, phases and the core.
 *
 * Every function that can succeed, fail, or need to come back later
 * returns one of these, so callers never decode per-subsystem integers.
 */
#ifndef TENANTEDGE_STATUS_H
#define TENANTEDGE_STATUS_H

typedef enum te_status {
    TE_OK = 0,          /* done, carry on */
    TE_ERROR = -1,      /* failed; the callee has logged why */
    TE_AGAIN = -2,      /* needs more input or time; call again later */
    TE_DECLINED = -3,   /* not mine; let the next one try */
    TE_DONE = -4        /* finished, nothing more to do (e.g. responded) */
} te_status;

#endif

/*
 * sock_int.h: what sock.c and sock_tls.c share, internal to those two
 * files. sock.c owns a te_sock's events, its plain path and the steps
 * of reading and writing; sock_tls.c the TLS I/O ops and the handlers
 * of the two socket events that te_sock_set_tls puts in place of the
 * plain ones, which go through the same steps.
 *
 * Hidden visibility: the core is compiled as PIC, where a function of
 * default visibility may be interposed, so calls to it from sock.c
 * would go through the PLT and never be inlined. Hidden, the plain path
 * calls these steps directly, as it did when they were static.
 */
#ifndef TE_SOCK_INT_H
#define TE_SOCK_INT_H

#include "sock.h"

#pragma GCC visibility push(hidden)

/* ---- sock.c, for sock_tls.c ---- */

/* Register or drop the read event as reading, the high watermark and
 * the TLS wants call for; on TLS, re-run it for bytes OpenSSL holds. */
void te_sock_update_read(te_sock *s);

/* The output is empty: EV_WRITE goes, unless a TLS read waits on it. */
void te_sock_write_idle(te_sock *s);

/* No more writing: EV_WRITE and a pending flush dropped. */
void te_sock_stop_writing(te_sock *s);

/* Report what (TE_SOCK_*) to the owner; errno is kept. */
void te_sock_event(te_sock *s, short what);

/* Write what the output holds. 1 when an owner callback ran (s may be
 * gone), else 0. */
int te_sock_write(te_sock *s);

/* The read and write events' work, without the flush that follows. */
void te_sock_on_read(te_sock *s, short what);
void te_sock_on_write(te_sock *s, short what);

/* After an owner callback: write what it gave the sockets. Every event
 * handler ends with it. */
void te_sock_flush_pending(void);

/* ---- sock_tls.c, for sock.c (TLS socks only: s->ssl set) ---- */

/* Run the read event again while OpenSSL holds bytes and reading is
 * on: they make no event under level triggering. */
void te_sock_tls_rerun(te_sock *s);

/* close_notify, once, not waiting for the peer's; nothing after a fatal
 * TLS error. */
void te_sock_tls_close_notify(te_sock *s);

#pragma GCC visibility pop

#endif

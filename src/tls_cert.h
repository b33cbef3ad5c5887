/*
 * tls_cert.h: one `certificate CRT KEY;` of the tls block, read from
 * its files and checked (tls_cert.c). Internal to tls_conf.c, which
 * reads the directive, keeps the certificates of the block and groups
 * them into contexts; the loading itself (PEM files, the key against
 * the leaf, the names served) is a separate step with its own rules.
 */
#ifndef TE_TLS_CERT_H
#define TE_TLS_CERT_H

#include <openssl/x509.h>

#include "module.h"

/* One `certificate CRT KEY;`, loaded and checked. */
struct te_tls_cert {
    const char *crt, *key; /* as resolved; strings of the snapshot */
    te_conf_where at;      /* the directive */
    X509 *leaf;
    STACK_OF(X509) * chain; /* after the leaf, may be empty */
    EVP_PKEY *pkey;
    int rsa;      /* else ECDSA */
    char **names; /* sorted, unique, lowercase */
    unsigned nnames;
};
/*
 * Reads c->crt (the leaf, then its chain) and c->key, checks that the
 * key is RSA or ECDSA and matches the leaf, and reads the names the
 * certificate serves. The caller has set crt, key and at, the rest is
 * zero. Errors go through te_conf_error at argument 1 (the certificate)
 * or 2 (the key) of the directive. 0, or -1: c then holds what was read
 * so far, which te_tls_cert_clear frees.
 */
int te_tls_cert_load(te_conf_ctx *cx, struct te_tls_cert *c);

/* Frees what c holds (c itself is the caller's) and zeroes it. */
void te_tls_cert_clear(struct te_tls_cert *c);

#endif

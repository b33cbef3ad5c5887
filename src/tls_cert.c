/*
 * tls_cert.c: loading one `certificate CRT KEY;` of the tls block: the
 * PEM leaf and chain, the private key (never with a pass phrase) checked
 * against the leaf, and the DNS names the certificate serves. Apart
 * from tls_conf.c because it is a step of its own, with its own limits,
 * under the directive's setter: the setter resolves the file names and
 * keeps the result, this file only reads and checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls_cert.h"

/* Certificates after the leaf in one file; more is surely a mistake. */
#define CHAIN_MAX 16
/* Longest DNS name (RFC 1035 2.3.4). */
#define NAME_MAX_LEN 253

void te_tls_cert_clear(struct te_tls_cert *c)
{
    X509_free(c->leaf);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->pkey);
    for (unsigned i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    memset(c, 0, sizeof(*c));
}

/* Keys are never read with a pass phrase: no prompt on the terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* fopen as a BIO, or NULL after the error. */
static BIO *open_pem(te_conf_ctx *cx, unsigned argi, const char *what,
                     const char *path)
{
    FILE *f = fopen(path, "re");
    BIO *b;
    int e;

    if (f == NULL) {
        e = errno;
        te_conf_error(cx, argi, "cannot read %s \"%s\": %s", what, path,
                      strerror(e));
        return NULL;
    }
    b = BIO_new_fp(f, BIO_CLOSE);
    if (b == NULL) {
        fclose(f);
        te_conf_error(cx, argi, "out of memory");
    }
    return b;
}

/* The leaf, then the chain, leaf first (as
 * SSL_CTX_use_certificate_chain_file reads it). */
static int load_chain(te_conf_ctx *cx, struct te_tls_cert *c)
{
    unsigned long e;
    BIO *b;
    X509 *x;
    int rc = -1;

    b = open_pem(cx, 1, "certificate file", c->crt);
    if (b == NULL)
        return -1;
    c->leaf = PEM_read_bio_X509_AUX(b, NULL, no_password, NULL);
    if (c->leaf == NULL) {
        te_conf_error(cx, 1, "no PEM certificate in \"%s\"", c->crt);
        goto out;
    }
    c->chain = sk_X509_new_null();
    if (c->chain == NULL) {
        te_conf_error(cx, 1, "out of memory");
        goto out;
    }
    for (unsigned i = 0;; i++) {
        ERR_clear_error();
        x = PEM_read_bio_X509(b, NULL, no_password, NULL);
        if (x == NULL)
            break;
        if (i == CHAIN_MAX || !sk_X509_push(c->chain, x)) {
            X509_free(x);
            te_conf_error(cx, 1,
                          "more than %d certificates after the leaf "
                          "in \"%s\"",
                          CHAIN_MAX, c->crt);
            goto out;
        }
    }
    /* The end of the file reads as "no start line"; anything else is a
     * broken certificate. */
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
        ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
        te_conf_error(cx, 1, "bad certificate after the leaf in \"%s\"",
                      c->crt);
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    BIO_free(b);
    return rc;
}

static int load_key(te_conf_ctx *cx, struct te_tls_cert *c)
{
    BIO *b = open_pem(cx, 2, "key file", c->key);
    int type;

    if (b == NULL)
        return -1;
    c->pkey = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
    BIO_free(b);
    ERR_clear_error();
    if (c->pkey == NULL)
        return te_conf_error(cx, 2,
                             "no PEM private key in \"%s\" (encrypted keys "
                             "are not supported)",
                             c->key);
    type = EVP_PKEY_get_base_id(c->pkey);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC)
        return te_conf_error(cx, 2, "key \"%s\" is neither RSA nor ECDSA",
                             c->key);
    c->rsa = type == EVP_PKEY_RSA;
    /* What SSL_CTX_check_private_key checks, before any context. */
    if (X509_check_private_key(c->leaf, c->pkey) != 1) {
        ERR_clear_error();
        return te_conf_error(cx, 2,
                             "key \"%s\" does not match certificate \"%s\"",
                             c->key, c->crt);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds a DNS name (len bytes) in lowercase; names we could never match
 * (a '*' anywhere but a whole first label, odd bytes) are left out. 0,
 * or -1 when out of memory. */
static int add_name(struct te_tls_cert *c, const unsigned char *s, size_t len)
{
    char *name, **names;

    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = s[i];

        if (ch == '*' && !(i == 0 && len > 2 && s[1] == '.'))
            return 0;
        if (!(ch == '*' || ch == '-' || ch == '.' || ch == '_' ||
              (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
              (ch >= 'A' && ch <= 'Z')))
            return 0;
    }
    names = realloc(c->names, (c->nnames + 1) * sizeof(*names));
    if (names == NULL)
        return -1;
    c->names = names;
    name = strndup((const char *)s, len);
    if (name == NULL)
        return -1;
    for (char *p = name; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    c->names[c->nnames++] = name;
    return 0;
}

/* The names the certificate serves: its subjectAltName DNS entries, or
 * its CN when it has none (RFC 6125 6.4.4). Sorted, duplicates out. */
static int read_names(te_conf_ctx *cx, struct te_tls_cert *c)
{
    GENERAL_NAMES *san;
    const X509_NAME *subj;
    unsigned i, j;
    int rc = 0, idx;

    san = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
    for (int k = 0; san != NULL && k < sk_GENERAL_NAME_num(san); k++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, k);

        if (g->type == GEN_DNS &&
            add_name(c, ASN1_STRING_get0_data(g->d.dNSName),
                     (size_t)ASN1_STRING_length(g->d.dNSName)) < 0)
            rc = -1;
    }
    GENERAL_NAMES_free(san);
    subj = X509_get_subject_name(c->leaf);
    idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (c->nnames == 0 && rc == 0 && idx >= 0) {
        const ASN1_STRING *cn =
            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));

        rc = add_name(c, ASN1_STRING_get0_data(cn),
                      (size_t)ASN1_STRING_length(cn));
    }
    ERR_clear_error();
    if (rc < 0)
        return te_conf_error(cx, 1, "out of memory");
    if (c->nnames > 1)
        qsort(c->names, c->nnames, sizeof(*c->names), cmp_str);
    for (i = 1, j = 0; i < c->nnames; i++) {
        if (strcmp(c->names[i], c->names[j]) == 0)
            free(c->names[i]);
        else
            c->names[++j] = c->names[i];
    }
    if (c->nnames > 0)
        c->nnames = j + 1;
    return 0;
}

int te_tls_cert_load(te_conf_ctx *cx, struct te_tls_cert *c)
{
    if (load_chain(cx, c) < 0 || load_key(cx, c) < 0 || read_names(cx, c) < 0)
        return -1;
    return 0;
}

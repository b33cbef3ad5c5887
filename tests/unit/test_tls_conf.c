/*
 * test_tls_conf.c: the `tls { }` block (src/tls_conf.c) and the TLS
 * contexts, callbacks and ticket keys it builds (src/tls.c).
 *
 * Every refusal of the block is provoked and its whole message,
 * file:line:col included, compared: operators read these. Certificates
 * and keys are made here with the OpenSSL API, once, into a temporary
 * folder removed at the end. The contexts are then judged by real
 * handshakes between a server SSL from te_tls_new_ssl and an OpenSSL
 * client over a socketpair: which certificate SNI picks, what ALPN
 * selects, what is refused, and how session tickets resume across key
 * rotations.
 */
#define _GNU_SOURCE
#include "config.h"
#include "tls.h"

#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define LISTEN_TLS "listen 127.0.0.1:8443 tls;\n"

static char dir[64];
static EVP_PKEY *rsa_a, *rsa_b, *ec_a, *ec_c, *ec_d, *ec_ca, *ed;
static X509 *a_rsa, *a_ec, *b_rsa, *c_ec, *d_leaf, *ca;
static char errbuf[1024];

/* ---- material ---- */

/* For set-up outside any test, where ck_assert cannot report. */
#define NEED(x)                                                                \
    do {                                                                       \
        if (!(x)) {                                                            \
            fprintf(stderr, "%s:%d: set-up failed: %s\n", __FILE__, __LINE__,  \
                    #x);                                                       \
            ERR_print_errors_fp(stderr);                                       \
            exit(EXIT_FAILURE);                                                \
        }                                                                      \
    } while (0)

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san,
                       EVP_PKEY *signer, X509 *issuer)
{
    static long serial;
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    X509V3_CTX v3;

    NEED(x);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x,
                         issuer != NULL ? X509_get_subject_name(issuer) : name);
    if (san != NULL) {
        X509_EXTENSION *ext;

        X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
        NEED(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    NEED(X509_sign(x, signer,
                   EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519
                       ? NULL
                       : EVP_sha256()) > 0);
    return x;
}

/* dir/name, in one of 16 rotating buffers (a call may use 10). */
static const char *path(const char *name)
{
    static char bufs[16][PATH_MAX];
    static unsigned i;
    char *b = bufs[i++ % 16];

    snprintf(b, PATH_MAX, "%s/%s", dir, name);
    return b;
}

static void put(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(path(name), "w");

    NEED(f);
    NEED(fwrite(data, 1, len, f) == len);
    NEED(fclose(f) == 0);
}

static void put_pem(const char *name, X509 *x, X509 *x2, EVP_PKEY *key)
{
    FILE *f = fopen(path(name), "w");

    NEED(f);
    if (x != NULL)
        NEED(PEM_write_X509(f, x) == 1);
    if (x2 != NULL)
        NEED(PEM_write_X509(f, x2) == 1);
    if (key != NULL)
        NEED(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    NEED(fclose(f) == 0);
}

static void put_key_file(const char *name, unsigned char fill, size_t len)
{
    unsigned char buf[100];

    memset(buf, fill, sizeof(buf));
    put(name, buf, len);
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* The folder goes at exit, whatever failed, but only from the process
 * that made it: Check runs each test in a child that exits too. */
static pid_t owner;

static void remove_dir(void)
{
    if (getpid() == owner && dir[0] != '\0')
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_material(void)
{
    static const char junk_pem[] = "-----BEGIN CERTIFICATE-----\n"
                                   "AAAA\n"
                                   "-----END CERTIFICATE-----\n";
    X509 *ed_cert, *b2;
    FILE *f;

    strcpy(dir, "/tmp/te-tls-XXXXXX");
    NEED(mkdtemp(dir));
    owner = getpid();
    atexit(remove_dir);
    rsa_a = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa_b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec_a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec_c = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec_d = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec_ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    NEED(rsa_a && rsa_b && ec_a && ec_c && ec_d && ec_ca && ed);

    a_rsa =
        make_cert(rsa_a, "a rsa", "DNS:a.test,DNS:*.wild.test", rsa_a, NULL);
    a_ec = make_cert(ec_a, "a ec", "DNS:*.wild.test,DNS:A.test", ec_a, NULL);
    b_rsa = make_cert(rsa_b, "b rsa", "DNS:b.test,IP:127.0.0.1", rsa_b, NULL);
    b2 = make_cert(rsa_a, "b2 rsa", "DNS:b.test", rsa_a, NULL);
    c_ec = make_cert(ec_c, "C.Test", NULL, ec_c, NULL);
    ca = make_cert(ec_ca, "test ca", NULL, ec_ca, NULL);
    d_leaf = make_cert(ec_d, "d leaf", "DNS:d.test", ec_ca, ca);
    ed_cert = make_cert(ed, "ed", "DNS:e.test", ed, NULL);

    put_pem("a-rsa.crt", a_rsa, NULL, NULL);
    put_pem("a-rsa.key", NULL, NULL, rsa_a);
    put_pem("a-ec.crt", a_ec, NULL, NULL);
    put_pem("a-ec.key", NULL, NULL, ec_a);
    put_pem("b-rsa.crt", b_rsa, NULL, NULL);
    put_pem("b-rsa.key", NULL, NULL, rsa_b);
    put_pem("b2-rsa.crt", b2, NULL, NULL);
    put_pem("c-ec.crt", c_ec, NULL, NULL);
    put_pem("c-ec.key", NULL, NULL, ec_c);
    put_pem("d-chain.crt", d_leaf, ca, NULL);
    put_pem("d.key", NULL, NULL, ec_d);
    put_pem("ed.crt", ed_cert, NULL, NULL);
    put_pem("ed.key", NULL, NULL, ed);
    /* the leaf, then a broken one */
    put_pem("bad-chain.crt", a_rsa, NULL, NULL);
    f = fopen(path("bad-chain.crt"), "a");
    NEED(f);
    fputs(junk_pem, f);
    fclose(f);
    put("garbage.crt", "hello\n", 6);
    f = fopen(path("enc.key"), "w");
    NEED(f);
    NEED(PEM_write_PrivateKey(f, rsa_a, EVP_aes_128_cbc(),
                              (unsigned char *)"pass", 4, NULL, NULL) == 1);
    fclose(f);

    put_key_file("tk1.key", 0x11, 80);
    put_key_file("tk2.key", 0x22, 80);
    put_key_file("tk79.key", 0x33, 79);
    put_key_file("tk81.key", 0x33, 81);
    for (int i = 0; i < 9; i++) {
        char name[32];

        snprintf(name, sizeof(name), "tkn%d.key", i);
        put_key_file(name, (unsigned char)(0x40 + i), 80);
    }
    X509_free(ed_cert);
    X509_free(b2);
}

static void free_material(void)
{
    X509_free(a_rsa);
    X509_free(a_ec);
    X509_free(b_rsa);
    X509_free(c_ec);
    X509_free(d_leaf);
    X509_free(ca);
    EVP_PKEY_free(rsa_a);
    EVP_PKEY_free(rsa_b);
    EVP_PKEY_free(ec_a);
    EVP_PKEY_free(ec_c);
    EVP_PKEY_free(ec_d);
    EVP_PKEY_free(ec_ca);
    EVP_PKEY_free(ed);
}

/* ---- configs ---- */

static te_config *parse(const char *text)
{
    errbuf[0] = '\0';
    return te_config_parse("t.conf", text, strlen(text), errbuf,
                           sizeof(errbuf));
}

static te_config *parsef(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static te_config *parsef(const char *fmt, ...)
{
    static char text[16384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return parse(text);
}

/* A tls listener and a block holding the rsa certificate of a.test on
 * line 3 and then lines (line 4 on). */
static te_config *block(const char *lines)
{
    return parsef(LISTEN_TLS "tls {\n"
                             "    certificate %s %s;\n"
                             "%s}\n",
                  path("a-rsa.crt"), path("a-rsa.key"), lines);
}

/* The block of block() must be refused with msg. */
static void block_error(const char *lines, const char *msg)
{
    te_config *cf = block(lines);

    ck_assert_msg(cf == NULL, "accepted: %s", lines);
    ck_assert_str_eq(errbuf, msg);
}

/* "certificate CRT KEY;" alone on line 3 must be refused with msg, the
 * names relative to dir. */
static void cert_error(const char *crt, const char *key, const char *msg)
{
    te_config *cf = parsef(LISTEN_TLS "tls {\n"
                                      "    certificate %s %s;\n"
                                      "}\n",
                           path(crt), path(key));

    ck_assert_msg(cf == NULL, "accepted: %s %s", crt, key);
    ck_assert_str_eq(errbuf, msg);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
    static char bufs[4][2048];
    static unsigned i;
    char *b = bufs[i++ % 4];
    va_list ap;

    va_start(ap, f);
    vsnprintf(b, 2048, f, ap);
    va_end(ap);
    return b;
}

/* ---- handshakes over a socketpair ---- */

struct pair {
    SSL *srv, *cli;
    int fds[2];
    int srv_failed; /* the server refused the handshake */
};

static SSL_CTX *client_ctx(int minv, int maxv)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());

    ck_assert_ptr_nonnull(c);
    ck_assert(SSL_CTX_set_min_proto_version(c, minv));
    ck_assert(SSL_CTX_set_max_proto_version(c, maxv));
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    return c;
}

static int want(SSL *ssl, int rc)
{
    int e = SSL_get_error(ssl, rc);

    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Both sides step in turn until both are done or one fails; bounded. */
static int drive(struct pair *p)
{
    for (int i = 0; i < 100; i++) {
        int rs = SSL_do_handshake(p->srv), rc;

        if (rs <= 0 && !want(p->srv, rs)) {
            p->srv_failed = 1;
            return 0;
        }
        rc = SSL_do_handshake(p->cli);
        if (rc <= 0 && !want(p->cli, rc))
            return 0;
        if (rs == 1 && rc == 1)
            return 1;
    }
    return 0;
}

/* The server writes one byte the client reads: the client takes in the
 * TLS 1.3 tickets sent after the handshake on the way. */
static void one_byte(struct pair *p)
{
    char c = 0;
    int n = -1;

    ck_assert_int_eq(SSL_write(p->srv, "x", 1), 1);
    for (int i = 0; i < 100 && n != 1; i++) {
        n = SSL_read(p->cli, &c, 1);
        if (n <= 0)
            ck_assert(want(p->cli, n));
    }
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(c, 'x');
}

/* A handshake of a client of cctx against t; sni, alpn (wire format)
 * and a session to resume may be NULL. 1 when it completed. */
static int connect_pair(te_tls *t, SSL_CTX *cctx, const char *sni,
                        const char *alpn, SSL_SESSION *resume, struct pair *p)
{
    int ok;

    memset(p, 0, sizeof(*p));
    ck_assert_int_eq(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fds), 0);
    p->srv = te_tls_new_ssl(t, p->fds[0]);
    ck_assert_ptr_nonnull(p->srv);
    p->cli = SSL_new(cctx);
    ck_assert_ptr_nonnull(p->cli);
    ck_assert(SSL_set_fd(p->cli, p->fds[1]));
    SSL_set_connect_state(p->cli);
    if (sni != NULL)
        ck_assert(SSL_set_tlsext_host_name(p->cli, sni));
    if (alpn != NULL)
        ck_assert_int_eq(SSL_set_alpn_protos(p->cli,
                                             (const unsigned char *)alpn,
                                             (unsigned)strlen(alpn)),
                         0);
    if (resume != NULL)
        ck_assert(SSL_set_session(p->cli, resume));
    ok = drive(p);
    te_tls_count(ok, p->srv);
    if (ok)
        one_byte(p);
    ERR_clear_error();
    return ok;
}

static void pair_close(struct pair *p)
{
    SSL_free(p->srv);
    SSL_free(p->cli);
    close(p->fds[0]);
    close(p->fds[1]);
}

/* The leaf the client was served. */
static X509 *served(const struct pair *p)
{
    return SSL_get0_peer_certificate(p->cli);
}

/* ---- valid blocks ---- */

START_TEST(minimal_block_builds_one_context)
{
    te_config *cf = block("");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_ptr_nonnull(cf->tls);
    ck_assert_uint_eq(te_tls_nctx(cf->tls), 1);
    ck_assert_ptr_null(te_tls_hsts(cf->tls));
    ck_assert_uint_eq(te_tls_handshake_timeout(cf->tls), 10000);
    ck_assert_uint_eq(te_tls_tickets_period(cf), 3600000);
    te_config_unref(cf);
}
END_TEST

START_TEST(no_tls_anywhere_builds_nothing)
{
    te_config *cf = parse("listen 127.0.0.1:8080;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_ptr_null(cf->tls);
    ck_assert_uint_eq(te_tls_tickets_period(cf), 0);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    te_config_unref(cf);
}
END_TEST

START_TEST(every_setting_applies)
{
    te_config *cf = block("    protocols TLSv1.3;\n"
                          "    ciphers ECDHE-ECDSA-AES256-GCM-SHA384;\n"
                          "    ciphersuites TLS_AES_256_GCM_SHA384:"
                          "TLS_CHACHA20_POLY1305_SHA256;\n"
                          "    groups P-384:X25519;\n"
                          "    session_tickets off;\n"
                          "    ticket_rotate 30m;\n"
                          "    hsts \"max-age=31536000; "
                          "includeSubDomains\";\n"
                          "    handshake_timeout 5s;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(te_tls_hsts(cf->tls),
                     "max-age=31536000; includeSubDomains");
    ck_assert_uint_eq(te_tls_handshake_timeout(cf->tls), 5000);
    /* tickets off: nothing to rotate */
    ck_assert_uint_eq(te_tls_tickets_period(cf), 0);
    te_config_unref(cf);

    cf = block("    ticket_rotate 30m;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(te_tls_tickets_period(cf), 30 * 60 * 1000);
    te_config_unref(cf);

    /* keys from files are rotated by whoever writes them */
    cf = block(
        fmt("    ticket_key %s;\n    ticket_rotate 30m;\n", path("tk1.key")));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(te_tls_tickets_period(cf), 0);
    te_config_unref(cf);
}
END_TEST

START_TEST(certificates_group_by_names)
{
    /* a's RSA and ECDSA share one context (their SANs are the same set,
     * written in another order and case); b, c (CN only) and d (with a
     * chain) get one each */
    te_config *cf = parsef(
        LISTEN_TLS "tls {\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "}\n",
        path("b-rsa.crt"), path("b-rsa.key"), path("a-rsa.crt"),
        path("a-rsa.key"), path("a-ec.crt"), path("a-ec.key"), path("c-ec.crt"),
        path("c-ec.key"), path("d-chain.crt"), path("d.key"));
    te_tls *t;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    t = cf->tls;
    ck_assert_uint_eq(te_tls_nctx(t), 4);
    /* b is the first: the default */
    SSL_CTX *b = te_tls_sni_ctx(t, "b.test"), *a = te_tls_sni_ctx(t, "a.test");
    ck_assert_ptr_ne(a, b);
    ck_assert_ptr_eq(te_tls_sni_ctx(t, "nowhere.test"), b);
    ck_assert_ptr_eq(te_tls_sni_ctx(t, "x.wild.test"), a);
    /* a wildcard covers one label exactly */
    ck_assert_ptr_eq(te_tls_sni_ctx(t, "y.x.wild.test"), b);
    ck_assert_ptr_eq(te_tls_sni_ctx(t, "wild.test"), b);
    ck_assert_ptr_eq(te_tls_sni_ctx(t, ".wild.test"), b);
    ck_assert_ptr_ne(te_tls_sni_ctx(t, "c.test"), b);
    ck_assert_ptr_ne(te_tls_sni_ctx(t, "c.test"), a);
    ck_assert_ptr_ne(te_tls_sni_ctx(t, "d.test"), b);
    /* the IP entry of b's SAN is no name */
    ck_assert_ptr_eq(te_tls_sni_ctx(t, "127.0.0.1"), b);
    te_config_unref(cf);
}
END_TEST

START_TEST(relative_paths_from_the_config_folder)
{
    char conf[PATH_MAX];
    const char *text = LISTEN_TLS "tls {\n"
                                  "    certificate a-rsa.crt a-rsa.key;\n"
                                  "    ticket_key tk1.key;\n"
                                  "}\n";
    te_config *cf;

    snprintf(conf, sizeof(conf), "%s", path("edge.conf"));
    put("edge.conf", text, strlen(text));
    cf = te_config_load(conf, errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_ptr_nonnull(cf->tls);
    te_config_unref(cf);
    unlink(conf);
}
END_TEST

/* ---- refusals ---- */

START_TEST(protocols_below_tls12_refused)
{
    block_error("    protocols TLSv1.1 TLSv1.2;\n",
                "t.conf:4:15: \"TLSv1.1\" is below TLS 1.2: refused");
    block_error("    protocols TLSv1.2 TLSv1;\n",
                "t.conf:4:23: \"TLSv1\" is below TLS 1.2: refused");
    block_error("    protocols SSLv3;\n",
                "t.conf:4:15: \"SSLv3\" is below TLS 1.2: refused");
    block_error("    protocols TLSv1.0;\n",
                "t.conf:4:15: \"TLSv1.0\" is below TLS 1.2: refused");
    block_error("    protocols TLSv2;\n",
                "t.conf:4:15: unknown protocol \"TLSv2\" (TLSv1.2 or "
                "TLSv1.3)");
    block_error("    protocols TLSv1.2 TLSv1.2;\n",
                "t.conf:4:23: duplicate protocol \"TLSv1.2\"");
    block_error("    protocols TLSv1.2 TLSv1.3 TLSv1.3;\n",
                "t.conf:4:31: duplicate protocol \"TLSv1.3\"");
    block_error("    protocols TLSv1 TLSv1.2 TLSv1.3;\n",
                "t.conf:4:15: \"TLSv1\" is below TLS 1.2: refused");
}
END_TEST

START_TEST(ciphers_without_ecdhe_or_aead_refused)
{
    block_error("    ciphers AES128-GCM-SHA256;\n",
                "t.conf:4:13: cipher AES128-GCM-SHA256 has no ECDHE key "
                "exchange (no forward secrecy): refused");
    block_error("    ciphers DHE-RSA-AES128-GCM-SHA256;\n",
                "t.conf:4:13: cipher DHE-RSA-AES128-GCM-SHA256 has no ECDHE "
                "key exchange (no forward secrecy): refused");
    block_error("    ciphers ECDHE-RSA-AES128-SHA;\n",
                "t.conf:4:13: cipher ECDHE-RSA-AES128-SHA is not AEAD: "
                "refused");
    block_error("    ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA;"
                "\n",
                "t.conf:4:13: cipher ECDHE-RSA-AES128-SHA is not AEAD: "
                "refused");
    block_error("    ciphers NO-SUCH-CIPHER;\n",
                "t.conf:4:13: \"NO-SUCH-CIPHER\" yields no TLS 1.2 cipher");
    block_error("    ciphers ECDHE+AESGCM;\n    ciphers ECDHE+AESGCM;\n",
                "t.conf:5:5: duplicate directive \"ciphers\"");
}
END_TEST

START_TEST(ciphersuites_and_groups_must_be_known)
{
    block_error("    ciphersuites TLS_AES_128_GCM_SHA256:TLS_NOPE;\n",
                "t.conf:4:18: unknown TLS 1.3 cipher suite \"TLS_NOPE\"");
    block_error("    ciphersuites \"\";\n", "t.conf:4:18: empty name in \"\"");
    block_error("    ciphersuites TLS_AES_128_GCM_SHA256::x;\n",
                "t.conf:4:18: empty name in "
                "\"TLS_AES_128_GCM_SHA256::x\"");
    block_error("    groups X25519:P-999;\n",
                "t.conf:4:12: unknown group \"P-999\"");
    block_error("    groups ffdhe-none;\n",
                "t.conf:4:12: unknown group \"ffdhe-none\"");
}
END_TEST

START_TEST(certificate_files_checked)
{
    cert_error("none.crt", "a-rsa.key",
               fmt("t.conf:3:17: cannot read certificate file \"%s\": No "
                   "such file or directory",
                   path("none.crt")));
    cert_error(
        "garbage.crt", "a-rsa.key",
        fmt("t.conf:3:17: no PEM certificate in \"%s\"", path("garbage.crt")));
    cert_error("bad-chain.crt", "a-rsa.key",
               fmt("t.conf:3:17: bad certificate after the leaf in \"%s\"",
                   path("bad-chain.crt")));
    cert_error("a-rsa.crt", "none.key",
               fmt("t.conf:3:%zu: cannot read key file \"%s\": No such "
                   "file or directory",
                   18 + strlen(path("a-rsa.crt")), path("none.key")));
    cert_error("a-rsa.crt", "garbage.crt",
               fmt("t.conf:3:%zu: no PEM private key in \"%s\" (encrypted "
                   "keys are not supported)",
                   18 + strlen(path("a-rsa.crt")), path("garbage.crt")));
    cert_error("a-rsa.crt", "enc.key",
               fmt("t.conf:3:%zu: no PEM private key in \"%s\" (encrypted "
                   "keys are not supported)",
                   18 + strlen(path("a-rsa.crt")), path("enc.key")));
    cert_error("a-rsa.crt", "b-rsa.key",
               fmt("t.conf:3:%zu: key \"%s\" does not match certificate "
                   "\"%s\"",
                   18 + strlen(path("a-rsa.crt")), path("b-rsa.key"),
                   path("a-rsa.crt")));
    cert_error("ed.crt", "ed.key",
               fmt("t.conf:3:%zu: key \"%s\" is neither RSA nor ECDSA",
                   18 + strlen(path("ed.crt")), path("ed.key")));
}
END_TEST

START_TEST(two_certificates_of_one_type_for_the_same_names_refused)
{
    /* b2 is another RSA certificate for b.test */
    te_config *cf =
        parsef(LISTEN_TLS "tls {\n"
                          "    certificate %s %s;\n"
                          "    certificate %s %s;\n"
                          "    certificate %s %s;\n"
                          "}\n",
               path("b-rsa.crt"), path("b-rsa.key"), path("a-rsa.crt"),
               path("a-rsa.key"), path("b2-rsa.crt"), path("a-rsa.key"));

    ck_assert_ptr_null(cf);
    /* b-rsa's SAN has an IP entry as well; names are what counts */
    ck_assert_str_eq(errbuf, "t.conf:5:5: a second RSA certificate for the "
                             "names of the one at t.conf:3:5");
}
END_TEST

START_TEST(ticket_key_files_checked)
{
    block_error(fmt("    ticket_key %s;\n", path("tk79.key")),
                fmt("t.conf:4:16: ticket key file \"%s\" must be exactly 80 "
                    "bytes (openssl rand 80)",
                    path("tk79.key")));
    block_error(fmt("    ticket_key %s;\n", path("tk81.key")),
                fmt("t.conf:4:16: ticket key file \"%s\" must be exactly 80 "
                    "bytes (openssl rand 80)",
                    path("tk81.key")));
    block_error(fmt("    ticket_key %s;\n", path("none.key")),
                fmt("t.conf:4:16: cannot read ticket key file \"%s\": No "
                    "such file or directory",
                    path("none.key")));
    block_error(fmt("    ticket_key %s;\n    ticket_key %s;\n", path("tk1.key"),
                    path("tk1.key")),
                fmt("t.conf:5:16: ticket key \"%s\" has the same name (first "
                    "16 bytes) as \"%s\"",
                    path("tk1.key"), path("tk1.key")));
}
END_TEST

START_TEST(at_most_8_ticket_keys)
{
    char lines[8192] = "";
    size_t n = 0;

    for (int i = 0; i < 9; i++) {
        char name[32];

        snprintf(name, sizeof(name), "tkn%d.key", i);
        n += (size_t)snprintf(lines + n, sizeof(lines) - n,
                              "    ticket_key %s;\n", path(name));
    }
    block_error(lines, "t.conf:12:5: more than 8 ticket_key files");
}
END_TEST

START_TEST(other_settings_checked)
{
    block_error("    session_tickets yes;\n",
                "t.conf:4:21: \"session_tickets\" takes on or off, not "
                "\"yes\"");
    block_error("    ticket_rotate 0;\n",
                "t.conf:4:19: \"ticket_rotate\" must be between 1s and "
                "168h");
    block_error("    ticket_rotate 169h;\n",
                "t.conf:4:19: \"ticket_rotate\" must be between 1s and "
                "168h");
    block_error("    ticket_rotate soon;\n",
                "t.conf:4:19: invalid duration \"soon\" in "
                "\"ticket_rotate\"");
    block_error("    hsts includeSubDomains;\n",
                "t.conf:4:10: \"hsts\" needs max-age=SECONDS (RFC 6797 "
                "6.1.1)");
    block_error("    handshake_timeout 0;\n",
                "t.conf:4:23: \"handshake_timeout\" must not be 0");
    block_error("    handshake_timeout 10s;\n    handshake_timeout 10s;\n",
                "t.conf:5:5: duplicate directive \"handshake_timeout\"");
    block_error("    ssl_stapling on;\n",
                "t.conf:4:5: unknown directive \"ssl_stapling\" in module "
                "\"core\"");
}
END_TEST

START_TEST(listeners_and_block_must_agree)
{
    te_config *cf = parse(LISTEN_TLS);

    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:2:1: listen 127.0.0.1:8443 has tls but "
                             "there is no tls block");

    cf = parsef("listen 127.0.0.1:8080;\n"
                "tls {\n"
                "    certificate %s %s;\n"
                "}\n",
                path("a-rsa.crt"), path("a-rsa.key"));
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:2:1: tls block but no listener has tls "
                             "(listen ADDR tls;)");

    cf = parse(LISTEN_TLS "tls {\n    protocols TLSv1.3;\n}\n");
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:2:1: tls block without a certificate");

    cf = parsef(LISTEN_TLS "tls {\n"
                           "    certificate %s %s;\n"
                           "}\n"
                           "tls { }\n",
                path("a-rsa.crt"), path("a-rsa.key"));
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:5:1: duplicate directive \"tls\"");

    cf = parse("listen 127.0.0.1:8443 ssl;\n");
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:1:23: unknown listen parameter \"ssl\"");
}
END_TEST

START_TEST(unnamed_text_names_no_file)
{
    const char *text = LISTEN_TLS "tls {\n    certificate a.crt a.key;\n}\n";
    te_config *cf =
        te_config_parse(NULL, text, strlen(text), errbuf, sizeof(errbuf));

    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "<memory>:3:17: a file cannot be named in "
                             "unnamed text");
}
END_TEST

/* ---- handshakes ---- */

static te_config *sni_config(void)
{
    te_config *cf = parsef(
        LISTEN_TLS "tls {\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "    certificate %s %s;\n"
                   "}\n",
        path("b-rsa.crt"), path("b-rsa.key"), path("a-rsa.crt"),
        path("a-rsa.key"), path("a-ec.crt"), path("a-ec.key"), path("c-ec.crt"),
        path("c-ec.key"), path("d-chain.crt"), path("d.key"));

    ck_assert_msg(cf != NULL, "%s", errbuf);
    return cf;
}

/* Which leaf a client offering sigalgs (NULL: any) gets for sni. */
static X509 *leaf_for(te_tls *t, const char *sni, const char *sigalgs, int maxv,
                      int *chain_len)
{
    SSL_CTX *c = client_ctx(TLS1_2_VERSION, maxv);
    struct pair p;
    X509 *x;

    if (sigalgs != NULL)
        ck_assert(SSL_CTX_set1_sigalgs_list(c, sigalgs));
    ck_assert_msg(connect_pair(t, c, sni, NULL, NULL, &p), "sni %s",
                  sni != NULL ? sni : "(none)");
    x = X509_dup(served(&p));
    if (chain_len != NULL)
        *chain_len = sk_X509_num(SSL_get_peer_cert_chain(p.cli));
    pair_close(&p);
    SSL_CTX_free(c);
    return x;
}

static void expect_leaf(te_tls *t, const char *sni, const char *sigalgs,
                        int maxv, X509 *want)
{
    X509 *got = leaf_for(t, sni, sigalgs, maxv, NULL);

    ck_assert_msg(X509_cmp(got, want) == 0, "sni %s sigalgs %s",
                  sni != NULL ? sni : "(none)",
                  sigalgs != NULL ? sigalgs : "any");
    X509_free(got);
}

START_TEST(sni_picks_the_certificate)
{
    static const char *const rsa_algs = "rsa_pss_rsae_sha256:RSA+SHA256";
    static const char *const ec_algs = "ECDSA+SHA256";
    te_config *cf = sni_config();
    te_tls *t = cf->tls;
    int n;

    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
        expect_leaf(t, "a.test", rsa_algs, v, a_rsa);
        expect_leaf(t, "a.test", ec_algs, v, a_ec);
        expect_leaf(t, "A.Test", ec_algs, v, a_ec);
        expect_leaf(t, "x.wild.test", rsa_algs, v, a_rsa);
        expect_leaf(t, "x.wild.test", ec_algs, v, a_ec);
        expect_leaf(t, "b.test", NULL, v, b_rsa);
        expect_leaf(t, "y.x.wild.test", NULL, v, b_rsa);
        expect_leaf(t, "unknown.test", NULL, v, b_rsa);
        expect_leaf(t, NULL, NULL, v, b_rsa);
        expect_leaf(t, "c.test", NULL, v, c_ec);
    }
    X509_free(leaf_for(t, "d.test", NULL, TLS1_3_VERSION, &n));
    ck_assert_int_eq(n, 2); /* the leaf and its CA */
    te_config_unref(cf);
}
END_TEST

/* The protocol ALPN settled on for a client offering alpn, "" if none. */
static void expect_alpn(te_tls *t, const char *alpn, const char *want)
{
    SSL_CTX *c = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
    const unsigned char *got;
    unsigned len;
    struct pair p;

    ck_assert(connect_pair(t, c, NULL, alpn, NULL, &p));
    SSL_get0_alpn_selected(p.cli, &got, &len);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(len == 0 || memcmp(got, want, len) == 0);
    ck_assert_int_eq(te_tls_is_h2(p.srv), strcmp(want, "h2") == 0);
    pair_close(&p);
    SSL_CTX_free(c);
}

START_TEST(alpn_selects_h2_then_http11)
{
    te_config *cf = block("");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    expect_alpn(cf->tls, "\x08http/1.1\x02h2", "h2");
    expect_alpn(cf->tls, "\x02h2", "h2");
    expect_alpn(cf->tls, "\x08http/1.1", "http/1.1");
    expect_alpn(cf->tls, "\x06spdy/3\x08http/1.1", "http/1.1");
    expect_alpn(cf->tls, "\x06spdy/3", "");
    expect_alpn(cf->tls, NULL, "");
    te_config_unref(cf);

    cf = parsef("http2 off;\n" LISTEN_TLS "tls {\n"
                "    certificate %s %s;\n}\n",
                path("a-rsa.crt"), path("a-rsa.key"));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    expect_alpn(cf->tls, "\x02h2\x08http/1.1", "http/1.1");
    expect_alpn(cf->tls, "\x02h2", "");
    te_config_unref(cf);
}
END_TEST

/* A client of c must be refused by the server itself. */
static void expect_refused(te_tls *t, SSL_CTX *c)
{
    te_tls_stats before, after;
    struct pair p;

    te_tls_stats_get(&before);
    ck_assert(!connect_pair(t, c, NULL, NULL, NULL, &p));
    ck_assert_msg(p.srv_failed, "the server did not refuse");
    te_tls_stats_get(&after);
    ck_assert_uint_eq(after.handshake_failures, before.handshake_failures + 1);
    ck_assert_uint_eq(after.handshakes, before.handshakes);
    pair_close(&p);
    SSL_CTX_free(c);
}

START_TEST(weak_clients_refused)
{
    te_config *cf = block("");
    te_tls *t;
    SSL_CTX *c;
    struct pair p;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    t = cf->tls;

    /* TLS 1.1, from a client that would allow it */
    c = client_ctx(TLS1_1_VERSION, TLS1_1_VERSION);
    SSL_CTX_set_security_level(c, 0);
    ck_assert(SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0"));
    expect_refused(t, c);

    /* TLS 1.2 without forward secrecy, then without AEAD */
    c = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    ck_assert(SSL_CTX_set_cipher_list(c, "AES128-GCM-SHA256"));
    expect_refused(t, c);
    c = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    ck_assert(SSL_CTX_set_cipher_list(c, "ECDHE-RSA-AES128-SHA256"));
    expect_refused(t, c);

    /* a group we do not offer */
    c = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
    ck_assert(SSL_CTX_set1_groups_list(c, "P-521"));
    expect_refused(t, c);

    /* what is allowed passes, and is counted */
    c = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    ck_assert(SSL_CTX_set_cipher_list(c, "ECDHE-RSA-AES128-GCM-SHA256"));
    ck_assert(connect_pair(t, c, NULL, NULL, NULL, &p));
    ck_assert_int_eq(SSL_version(p.srv), TLS1_2_VERSION);
    pair_close(&p);
    SSL_CTX_free(c);
    te_config_unref(cf);

    /* protocols TLSv1.3: a TLS 1.2 client is refused */
    cf = block("    protocols TLSv1.3;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    expect_refused(cf->tls, client_ctx(TLS1_2_VERSION, TLS1_2_VERSION));
    te_config_unref(cf);
}
END_TEST

/* The 16-byte key name a session's ticket was sealed under. */
static void ticket_name(SSL_SESSION *s, unsigned char *name)
{
    const unsigned char *tick;
    size_t len;

    ck_assert(SSL_SESSION_has_ticket(s));
    SSL_SESSION_get0_ticket(s, &tick, &len);
    ck_assert_uint_ge(len, 16);
    memcpy(name, tick, 16);
}

/* Connects (resuming s if not NULL) and returns the client's session
 * afterwards; *reused says whether s was resumed. */
static SSL_SESSION *session(te_tls *t, SSL_CTX *c, SSL_SESSION *s, int *reused)
{
    struct pair p;
    SSL_SESSION *out;

    ck_assert(connect_pair(t, c, "a.test", NULL, s, &p));
    *reused = SSL_session_reused(p.cli);
    ck_assert_int_eq(SSL_session_reused(p.srv), *reused);
    out = SSL_get1_session(p.cli);
    SSL_shutdown(p.cli);
    SSL_shutdown(p.srv);
    pair_close(&p);
    return out;
}

static int same_ticket(SSL_SESSION *a, SSL_SESSION *b)
{
    const unsigned char *x, *y;
    size_t n, m;

    SSL_SESSION_get0_ticket(a, &x, &n);
    SSL_SESSION_get0_ticket(b, &y, &m);
    return n == m && memcmp(x, y, n) == 0;
}

/*
 * Generated keys: a ticket resumes under the current key; after one
 * rotation under the previous key, and is then renewed; after two it is
 * refused (a full handshake). TLS 1.3 renews on every resumption.
 */
static void rotation_cycle(int version)
{
    te_config *cf = block("");
    SSL_CTX *c = client_ctx(version, version);
    SSL_SESSION *s1, *s2, *s3, *s4;
    te_tls_stats before, after;
    int reused;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    te_tls_stats_get(&before);

    s1 = session(cf->tls, c, NULL, &reused);
    ck_assert(!reused);
    ck_assert(SSL_SESSION_has_ticket(s1));

    s2 = session(cf->tls, c, s1, &reused);
    ck_assert(reused);
    /* TLS 1.2 under the current key: the same ticket stays */
    ck_assert_int_eq(same_ticket(s1, s2), version == TLS1_2_VERSION);

    te_tls_tickets_rotate();
    s3 = session(cf->tls, c, s1, &reused);
    ck_assert(reused);
    ck_assert(!same_ticket(s1, s3)); /* renewed under the new key */

    te_tls_tickets_rotate();
    SSL_SESSION_free(s2);
    s2 = session(cf->tls, c, s1, &reused);
    ck_assert(!reused); /* its key is gone */
    s4 = session(cf->tls, c, s3, &reused);
    ck_assert(reused); /* the renewed one still works */

    te_tls_stats_get(&after);
    ck_assert_uint_eq(after.handshakes - before.handshakes, 5);
    ck_assert_uint_eq(after.resumed - before.resumed, 3);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s3);
    SSL_SESSION_free(s4);
    SSL_CTX_free(c);
    te_config_unref(cf);
}

START_TEST(tickets_resume_across_one_rotation_tls13)
{
    rotation_cycle(TLS1_3_VERSION);
}
END_TEST

START_TEST(tickets_resume_across_one_rotation_tls12)
{
    rotation_cycle(TLS1_2_VERSION);
}
END_TEST

START_TEST(ticket_key_files_first_encrypts)
{
    unsigned char name[16], one[16], two[16], key[80];
    te_config *cf;
    SSL_CTX *c = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
    SSL_SESSION *s1, *s2, *s3;
    int reused;

    memset(one, 0x11, sizeof(one));
    memset(two, 0x22, sizeof(two));
    cf = block(fmt("    ticket_key %s;\n    ticket_key %s;\n", path("tk1.key"),
                   path("tk2.key")));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    s1 = session(cf->tls, c, NULL, &reused);
    ticket_name(s1, name);
    ck_assert(memcmp(name, one, 16) == 0);
    te_config_unref(cf);

    /* the fleet moves to tk2; tk1 only decrypts: resumed and renewed */
    cf = block(fmt("    ticket_key %s;\n    ticket_key %s;\n", path("tk2.key"),
                   path("tk1.key")));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    s2 = session(cf->tls, c, s1, &reused);
    ck_assert(reused);
    ticket_name(s2, name);
    ck_assert(memcmp(name, two, 16) == 0);
    /* rotating does nothing to keys from files */
    te_tls_tickets_rotate();
    ck_assert_int_eq(te_tls_ticket_key(0, key), 0);
    ck_assert(memcmp(key, two, 16) == 0);
    te_config_unref(cf);

    /* tk1 dropped: its tickets no longer resume */
    cf = block(fmt("    ticket_key %s;\n", path("tk2.key")));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    s3 = session(cf->tls, c, s1, &reused);
    ck_assert(!reused);
    SSL_SESSION_free(s3);
    s3 = session(cf->tls, c, s2, &reused);
    ck_assert(reused);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s3);
    SSL_CTX_free(c);
    te_config_unref(cf);
}
END_TEST

START_TEST(session_tickets_off_issues_none)
{
    te_config *cf = block("    session_tickets off;\n");
    SSL_SESSION *s1, *s2;
    int reused;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
        SSL_CTX *c = client_ctx(v, v);

        s1 = session(cf->tls, c, NULL, &reused);
        ck_assert(!SSL_SESSION_has_ticket(s1));
        s2 = session(cf->tls, c, s1, &reused);
        ck_assert(!reused);
        SSL_SESSION_free(s1);
        SSL_SESSION_free(s2);
        SSL_CTX_free(c);
    }
    te_config_unref(cf);
}
END_TEST

START_TEST(generated_keys_survive_a_reload)
{
    unsigned char k0[80], k1[80], k[80], one[80];
    te_config *files = block(fmt("    ticket_key %s;\n", path("tk1.key")));
    te_config *cf = block(""), *cf2;

    /* from a key file to generated keys: the file's key still decrypts */
    memset(one, 0x11, sizeof(one));
    ck_assert_msg(files != NULL && cf != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(files, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(te_tls_ticket_key(1, k), -1);
    ck_assert_int_eq(te_tls_tickets_load(cf, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(te_tls_ticket_key(0, k0), 0);
    ck_assert(memcmp(k0, one, 80) != 0);
    ck_assert_int_eq(te_tls_ticket_key(1, k), 0);
    ck_assert(memcmp(k, one, 80) == 0);

    cf2 = block("    ticket_rotate 2h;\n");
    ck_assert_msg(cf2 != NULL, "%s", errbuf);
    ck_assert_int_eq(te_tls_tickets_load(cf2, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(te_tls_ticket_key(0, k), 0);
    ck_assert(memcmp(k, k0, 80) == 0);

    te_tls_tickets_rotate();
    ck_assert_int_eq(te_tls_ticket_key(0, k1), 0);
    ck_assert(memcmp(k1, k0, 80) != 0);
    ck_assert_int_eq(te_tls_ticket_key(1, k), 0);
    ck_assert(memcmp(k, k0, 80) == 0);

    te_tls_tickets_rotate();
    ck_assert_int_eq(te_tls_ticket_key(1, k), 0);
    ck_assert(memcmp(k, k1, 80) == 0);
    ck_assert_int_eq(te_tls_ticket_key(2, k), -1);
    te_config_unref(files);
    te_config_unref(cf);
    te_config_unref(cf2);
}
END_TEST

/* Reads the encrypting key while the main thread keeps replacing it:
 * every copy must be one whole key (all 0xAA or all 0xBB). New keys go
 * to fresh slots of the ring, so a copy could only tear if the ring
 * wrapped under a slow reader; the sequence check is for that case, and
 * this test would rarely catch its absence. It does catch a reader that
 * mixes slots or reads a slot being written. */
static atomic_int reader_started, writer_done;
static atomic_int torn, seen_a, seen_b;

static void *reader(void *arg)
{
    unsigned char k[80];

    (void)arg;
    atomic_store(&reader_started, 1);
    for (int i = 0; i < 10000000 && !atomic_load(&writer_done); i++) {
        if (te_tls_ticket_key(0, k) < 0)
            continue;
        for (int j = 1; j < 80; j++)
            if (k[j] != k[0]) {
                atomic_fetch_add(&torn, 1);
                break;
            }
        if (k[0] == 0xaa)
            atomic_fetch_add(&seen_a, 1);
        else if (k[0] == 0xbb)
            atomic_fetch_add(&seen_b, 1);
        else
            atomic_fetch_add(&torn, 1);
    }
    return NULL;
}

START_TEST(readers_never_see_a_torn_key)
{
    te_config *a, *b;
    pthread_t th;

    put_key_file("tka.key", 0xaa, 80);
    put_key_file("tkb.key", 0xbb, 80);
    a = block(fmt("    ticket_key %s;\n", path("tka.key")));
    b = block(fmt("    ticket_key %s;\n", path("tkb.key")));
    ck_assert(a != NULL && b != NULL);
    ck_assert_int_eq(te_tls_tickets_load(a, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, reader, NULL), 0);
    for (int i = 0; i < 5000 && !atomic_load(&reader_started); i++)
        usleep(1000);
    /* bursts of back-to-back replacements, with pauses in which the
     * reader gets whole copies of both keys */
    for (int i = 0; i < 20000; i++) {
        te_tls_tickets_load(i & 1 ? a : b, errbuf, sizeof(errbuf));
        if (i % 100 == 0 || i % 100 == 1)
            usleep(200);
    }
    atomic_store(&writer_done, 1);
    pthread_join(th, NULL);
    ck_assert_int_eq(atomic_load(&torn), 0);
    ck_assert_int_gt(atomic_load(&seen_a), 0);
    ck_assert_int_gt(atomic_load(&seen_b), 0);
    te_config_unref(a);
    te_config_unref(b);
}
END_TEST

START_TEST(an_ssl_keeps_its_contexts_alive)
{
    te_config *cf = sni_config();
    SSL_CTX *c = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
    struct pair p;
    int fds[2];
    SSL *srv;

    /* the config and its te_tls go while the SSL waits for a client:
     * the SNI callback must still find its te_tls */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds),
                     0);
    srv = te_tls_new_ssl(cf->tls, fds[0]);
    ck_assert_ptr_nonnull(srv);
    te_config_unref(cf);

    memset(&p, 0, sizeof(p));
    p.srv = srv;
    p.fds[0] = fds[0];
    p.fds[1] = fds[1];
    p.cli = SSL_new(c);
    ck_assert(SSL_set_fd(p.cli, fds[1]));
    SSL_set_connect_state(p.cli);
    ck_assert(SSL_set_tlsext_host_name(p.cli, "c.test"));
    ck_assert(drive(&p));
    ck_assert(X509_cmp(served(&p), c_ec) == 0);
    pair_close(&p);
    SSL_CTX_free(c);
}
END_TEST

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls_conf");
    TCase *conf = tcase_create("conf"), *hs = tcase_create("handshakes");

    tcase_set_timeout(conf, 60);
    tcase_add_test(conf, minimal_block_builds_one_context);
    tcase_add_test(conf, no_tls_anywhere_builds_nothing);
    tcase_add_test(conf, every_setting_applies);
    tcase_add_test(conf, certificates_group_by_names);
    tcase_add_test(conf, relative_paths_from_the_config_folder);
    tcase_add_test(conf, protocols_below_tls12_refused);
    tcase_add_test(conf, ciphers_without_ecdhe_or_aead_refused);
    tcase_add_test(conf, ciphersuites_and_groups_must_be_known);
    tcase_add_test(conf, certificate_files_checked);
    tcase_add_test(conf,
                   two_certificates_of_one_type_for_the_same_names_refused);
    tcase_add_test(conf, ticket_key_files_checked);
    tcase_add_test(conf, at_most_8_ticket_keys);
    tcase_add_test(conf, other_settings_checked);
    tcase_add_test(conf, listeners_and_block_must_agree);
    tcase_add_test(conf, unnamed_text_names_no_file);
    suite_add_tcase(s, conf);

    tcase_set_timeout(hs, 120);
    tcase_add_test(hs, sni_picks_the_certificate);
    tcase_add_test(hs, alpn_selects_h2_then_http11);
    tcase_add_test(hs, weak_clients_refused);
    tcase_add_test(hs, tickets_resume_across_one_rotation_tls13);
    tcase_add_test(hs, tickets_resume_across_one_rotation_tls12);
    tcase_add_test(hs, ticket_key_files_first_encrypts);
    tcase_add_test(hs, session_tickets_off_issues_none);
    tcase_add_test(hs, generated_keys_survive_a_reload);
    tcase_add_test(hs, readers_never_see_a_torn_key);
    tcase_add_test(hs, an_ssl_keeps_its_contexts_alive);
    suite_add_tcase(s, hs);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    make_material();
    sr = srunner_create(tls_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free_material();
    te_tls_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * b64url.c: strict base64url for JWS segments and JWK members.
 *
 * RFC 7515 2 defines base64url "with all trailing '=' characters
 * omitted" and without line breaks, whitespace or other additional
 * characters. Decoders that skip stray bytes or ignore non-zero
 * trailing bits make one token valid under many spellings (Debian's
 * libb64 does: LIBRARIES.md 1), which defeats any cache or deny-list
 * keyed on the token. This one accepts exactly one spelling per byte
 * string.
 */
#include "jwt.h"

/* Value of each byte in the base64url alphabet (RFC 4648 5), 0xff for
 * every other byte, '=' included. */
static const unsigned char b64url_value[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,
    ['G'] = 6,  ['H'] = 7,  ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11,
    ['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17,
    ['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21, ['W'] = 22, ['X'] = 23,
    ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29,
    ['e'] = 30, ['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35,
    ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40, ['p'] = 41,
    ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47,
    ['w'] = 48, ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53,
    ['2'] = 54, ['3'] = 55, ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59,
    ['8'] = 60, ['9'] = 61, ['-'] = 62, ['_'] = 63,
};

/* The table's zero entries are both 'A' and "not in the alphabet";
 * this tells them apart. */
static int value_of(unsigned char c, unsigned *v)
{
    *v = b64url_value[c];
    return *v != 0 || c == 'A';
}

ssize_t te_b64url_decode(const char *in, size_t len, unsigned char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t full = len / 4 * 4, o = 0, rest = len % 4;
    unsigned a, b, c, d;

    /* A lone trailing character encodes no whole byte. */
    if (rest == 1)
        return -1;

    for (size_t i = 0; i < full; i += 4) {
        if (!value_of(s[i], &a) || !value_of(s[i + 1], &b) ||
            !value_of(s[i + 2], &c) || !value_of(s[i + 3], &d))
            return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        out[o++] = (unsigned char)((b & 0xf) << 4 | c >> 2);
        out[o++] = (unsigned char)((c & 0x3) << 6 | d);
    }

    /* The last 2 or 3 characters: their unused low bits must be zero
     * (RFC 4648 3.5), or several spellings would decode alike. */
    if (rest == 2) {
        if (!value_of(s[full], &a) || !value_of(s[full + 1], &b) ||
            (b & 0xf) != 0)
            return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
    } else if (rest == 3) {
        if (!value_of(s[full], &a) || !value_of(s[full + 1], &b) ||
            !value_of(s[full + 2], &c) || (c & 0x3) != 0)
            return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        out[o++] = (unsigned char)((b & 0xf) << 4 | c >> 2);
    }
    return (ssize_t)o;
}

/*
 * core_crypto.c - random tokens, token hashes and passwords (libsodium).
 *
 * Secrets are never stored: sessions and API tokens keep a SHA-256 of a
 * 256-bit random token (a fast hash is right for high-entropy tokens);
 * passwords keep an argon2id hash (slow on purpose).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

int
gu_crypto_init(void)
{
    return sodium_init() < 0 ? GU_EINTERNAL : 0;
}

int
gu_random_token(char *out, size_t cap, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes == 0 || nbytes > sizeof(raw))
        return GU_EINVAL;
    size_t need = sodium_base64_ENCODED_LEN(
        nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (cap < need)
        return GU_EINVAL;
    randombytes_buf(raw, nbytes);
    sodium_bin2base64(out, cap, raw, nbytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    return 0;
}

bool
gu_token_shape(const char *t, size_t len)
{
    return t && strlen(t) == len &&
           strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") == len;
}

void
gu_token_hash(const char *token, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, 65, h, sizeof(h));
}

bool
gu_const_eq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t na = strlen(a), nb = strlen(b);
    if (na != nb)
        return false;
    return sodium_memcmp(a, b, na) == 0;
}

int
gu_password_hash(const char *pw, char *out, size_t cap)
{
    if (cap < crypto_pwhash_STRBYTES)
        return GU_EINVAL;
    /* Interactive limits: ~64 MiB, fast enough for a login form on 2
     * cores, and what libsodium recommends for online use. */
    if (crypto_pwhash_str(out, pw, strlen(pw),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return GU_ENOMEM;
    return 0;
}

bool
gu_password_check(const char *hash, const char *pw)
{
    if (!hash || !pw)
        return false;
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

int
gu_password_generate(char *out, size_t cap)
{
    /* Four groups of four from an alphabet without look-alikes (no 0/o,
     * 1/l/i): ~80 bits, easy to read aloud or copy from a screen. */
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
    const size_t groups = 4, per = 4;
    if (cap < groups * (per + 1))
        return GU_EINVAL;
    size_t o = 0;
    for (size_t g = 0; g < groups; g++) {
        if (g)
            out[o++] = '-';
        for (size_t k = 0; k < per; k++)
            out[o++] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    }
    out[o] = '\0';
    return 0;
}

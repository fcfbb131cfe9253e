/*
 * privacy.h - detection and redaction of personal data in free text.
 *
 * The shield every other part relies on: residents' messages are redacted
 * before they reach logs, analytics, models or long-term storage. It sits
 * below the domains (like text/), so the assistant, triage and voice all
 * use the same rules.
 *
 * Detected (French context): e-mail addresses, phone numbers (French
 * national and international forms), NIR (numéro de sécurité sociale, with
 * its key), IBAN (checked mod 97), payment card numbers (Luhn), ANTS
 * pre-application numbers, dates of birth after « né(e) le », SIREN and
 * SIRET (Luhn, La Poste rule), numéros fiscaux (key mod 511), passport and
 * CNI numbers (only after a context word), registration plates (SIV and
 * FNI), postal addresses (number, street type and name, with the postcode
 * and town that follow), person names (after « je m'appelle », « M. »,
 * « Mme »..., a relation word such as « ma voisine » or « de la part
 * de », on a signature line, or a known first name followed by a
 * capitalised word) and any other run of 6+ digits. Each is replaced by a
 * French placeholder such as « [courriel] », « [téléphone] », « [numéro] ».
 */
#ifndef PRIVACY_PRIVACY_H
#define PRIVACY_PRIVACY_H

#include "core/core.h"

enum pii_kind {
    PII_EMAIL = 1 << 0,
    PII_PHONE = 1 << 1,
    PII_NIR = 1 << 2,
    PII_IBAN = 1 << 3,
    PII_CARD = 1 << 4,
    PII_ANTS = 1 << 5,
    PII_BIRTHDATE = 1 << 6,
    PII_NUMBER = 1 << 7,
    PII_SIREN = 1 << 8,
    PII_SIRET = 1 << 9,
    PII_FISCAL = 1 << 10,    /* numéro fiscal (SPI) */
    PII_PASSPORT = 1 << 11,
    PII_CNI = 1 << 12,       /* carte nationale d'identité */
    PII_PLATE = 1 << 13,     /* immatriculation */
    PII_ADDRESS = 1 << 14,
    PII_NAME = 1 << 15
};

#define PII_KIND_LAST PII_NAME

struct pii_span {
    enum pii_kind kind;
    size_t off, len; /* bytes in the input */
};

/*
 * Find personal data in s[0..n). Fills up to `cap` spans (sorted, not
 * overlapping) and sets *count to the number found (may exceed cap).
 */
int pii_scan(const char *s, size_t n, struct pii_span *spans, size_t cap,
             size_t *count);

/*
 * A copy of s[0..n) in `a` with every detected span replaced by its
 * placeholder. *kinds (may be NULL) gets the OR of the kinds found.
 * Returns NULL only on allocation failure.
 */
char *pii_redact(struct gu_arena *a, const char *s, size_t n,
                 unsigned *kinds);

/* The French placeholder of a kind ("[courriel]"). */
const char *pii_placeholder(enum pii_kind k);

/* A short English name of a kind for logs and JSON ("email", "nir"). */
const char *pii_kind_name(enum pii_kind k);

/* ------------------------------------------------------------------ */
/* Linkable redaction (privacy_keyed.c)                                */
/* ------------------------------------------------------------------ */

#define PII_KEY_BYTES 32

/*
 * Like pii_redact(), but each placeholder carries a short keyed hash of
 * the normalised value (BLAKE2b via libsodium crypto_generichash with
 * `key`): « [téléphone·3f9a1c2b] ». Two mentions of the same number or
 * address (whatever their writing: "06 12 34 56 78" and "+33612345678")
 * get the same tag within a commune, different tags in another commune,
 * and the value cannot be recovered from the tag. key == NULL behaves
 * like pii_redact().
 */
char *pii_redact_keyed(struct gu_arena *a, const char *s, size_t n,
                       const unsigned char key[PII_KEY_BYTES],
                       unsigned *kinds);

struct store_conn;
/*
 * The commune's redaction key (table privacy_keys, created at first use
 * with 32 random bytes). Returns 0 or a GU_E* code.
 */
int pii_commune_key(struct store_conn *c, const char *insee,
                    unsigned char key[PII_KEY_BYTES], struct gu_err *err);
const struct store_migration *privacy_migrations(size_t *count);

/*
 * Normalised forms used to find a resident's rows (residents' rights):
 * e-mail lowercased and trimmed; a French phone number as its 10
 * national digits ("0612345678", from "+33 6 12 34 56 78", "0033...",
 * "+33 (0)6..." and the overseas codes +262/+590/+594/+596/+269 too),
 * another country's as "+" and its 8 to 15 digits. Return NULL (in `a`)
 * when the input is not one.
 */
const char *pii_norm_email(struct gu_arena *a, const char *s);
const char *pii_norm_phone(struct gu_arena *a, const char *s);

#endif

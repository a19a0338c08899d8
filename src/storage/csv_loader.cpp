// Owned by the SQLite/data engineer; placeholder so the project links.

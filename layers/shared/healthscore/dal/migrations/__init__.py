"""Plain SQL migrations, applied in file-name order (see `healthscore.dal.migrate`)."""

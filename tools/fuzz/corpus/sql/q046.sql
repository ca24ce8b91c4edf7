SELECT count(*) FROM members WHERE gender IS NULL;

SELECT count(*) FROM members WHERE city NOT IN (1, NULL);

SELECT count(*) FROM members WHERE NOT (city = NULL OR city = 1);

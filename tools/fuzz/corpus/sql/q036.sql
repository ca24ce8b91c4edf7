SELECT count(*) FROM members WHERE NOT (city = 1 OR city = 4);

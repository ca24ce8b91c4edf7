SELECT count(*) FROM members WHERE city = 1;

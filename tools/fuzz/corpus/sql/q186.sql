SELECT count(*) FROM members WHERE city = 13 /* a block comment */ AND bd > 40;

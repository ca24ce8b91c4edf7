SELECT abs(bd), abs(-3), abs(-2.5), abs(bd - 30) FROM members WHERE city = 15;

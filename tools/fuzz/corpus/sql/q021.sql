SELECT bd // (city - city) FROM members WHERE city = 5;

SELECT city, count(*) FROM members WHERE FALSE GROUP BY city;

SELECT city, count(*) FROM members GROUP BY city LIMIT 0;

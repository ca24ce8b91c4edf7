SELECT city, count(*) FROM members GROUP BY 3;

SELECT city AS bd, count(*) AS n FROM members GROUP BY city, bd HAVING bd > 40 ORDER BY 1, 2;

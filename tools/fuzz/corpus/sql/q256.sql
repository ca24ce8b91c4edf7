SELECT max(bd) AS mx, city FROM members GROUP BY ALL ORDER BY 2;

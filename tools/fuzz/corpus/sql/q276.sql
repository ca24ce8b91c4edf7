SELECT coalesce(gender = 'male', city > 5) AS x, count(*) AS n FROM members GROUP BY 1 ORDER BY 1;

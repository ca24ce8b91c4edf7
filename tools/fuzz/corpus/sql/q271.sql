SELECT coalesce(coalesce(gender, NULL), coalesce(NULL, 'q')) AS g, count(*) AS n FROM members GROUP BY 1 ORDER BY 1;

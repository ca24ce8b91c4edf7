SELECT coalesce(CASE WHEN bd // 10 = 2 THEN msno END, 'none') AS k, count(*) AS n FROM members GROUP BY 1 HAVING count(*) > 1;

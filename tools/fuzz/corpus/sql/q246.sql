SELECT (num_unq * 3 + 1) % 7 AS k, CASE WHEN num_unq // 10 = 2 THEN 'twenties' ELSE 'other' END AS band,
       count(*) AS n, sum(num_unq) AS unq FROM user_logs WHERE num_unq - 1 > 0 GROUP BY 1, 2;

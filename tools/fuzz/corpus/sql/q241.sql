SELECT l.cutoff_date, l.is_churn, CASE WHEN u.num_25 > 3 THEN u.num_25 END AS many_skips, count(*) AS n,
       sum(u.num_100) AS plays, count(DISTINCT msno) AS users
FROM user_logs u LEFT JOIN labels l USING (msno) WHERE u.date >= DATE '2016-06-01' GROUP BY 1, 2, 3;

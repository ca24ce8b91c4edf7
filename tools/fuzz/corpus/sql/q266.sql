SELECT month(date) AS m, count(*) AS n FROM user_logs GROUP BY m HAVING n > m * 1000 ORDER BY -m;

SELECT date, min(msno) AS lo, max(msno) AS hi, count(DISTINCT msno) AS n FROM user_logs GROUP BY date ORDER BY date LIMIT 5;

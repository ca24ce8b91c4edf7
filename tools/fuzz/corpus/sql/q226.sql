SELECT msno, year(date) * 100 + month(date) AS ym, count(DISTINCT msno) AS one, count(DISTINCT date) AS days, count(*) AS n
FROM user_logs GROUP BY 1, 2 HAVING count(DISTINCT date) >= 27 OR count(DISTINCT msno) <> 1 OR count(*) <> count(DISTINCT date);

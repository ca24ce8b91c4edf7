SELECT year(u.date), count(*) FROM user_logs u GROUP BY year(date);

SELECT num_50 / num_50 AS r, count(*) FROM user_logs GROUP BY r;

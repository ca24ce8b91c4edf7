SELECT date_diff('year', registration_init_time, date) AS y, count(*) FROM user_logs JOIN members USING (msno) WHERE date = DATE '2016-02-29' GROUP BY y ORDER BY y;

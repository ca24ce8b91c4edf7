SELECT msno, total_secs, CAST(total_secs AS BIGINT), CAST(total_secs AS INTEGER) FROM user_logs WHERE date = DATE '2016-06-20';

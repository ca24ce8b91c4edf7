SELECT msno, num_25 / num_50, num_50 / num_50, total_secs / num_50 FROM user_logs WHERE date = DATE '2016-05-05';

SELECT * FROM user_logs WHERE date = DATE '2016-03-15';

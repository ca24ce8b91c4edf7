SELECT count(*) FROM user_logs WHERE num_unq > 50.5 AND num_unq <= 52.5;

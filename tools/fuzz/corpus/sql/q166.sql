SELECT msno, date, num_unq FROM user_logs WHERE num_25 > 2 ORDER BY num_unq, date DESC, msno LIMIT 700;

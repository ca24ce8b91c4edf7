SELECT count(*) AS n FROM user_logs u JOIN members m USING (msno) WHERE msno = 'nope' OR u.num_unq > 60;

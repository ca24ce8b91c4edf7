SELECT count(*) AS n FROM user_logs WHERE num_unq IN ('5', 6, '7') AND date NOT IN ('2016-01-01', DATE '2016-02-01');

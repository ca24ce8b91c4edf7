SELECT count(*), count(l.msno), count(DISTINCT l.msno) FROM members m LEFT JOIN labels l USING (msno) WHERE NOT (l.is_churn = 1) OR l.cutoff_date IS NULL;

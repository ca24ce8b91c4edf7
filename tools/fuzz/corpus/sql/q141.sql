SELECT count(*), count(cutoff_date), count(DISTINCT msno), sum(CASE WHEN is_churn IS NULL THEN 1 ELSE 0 END) FROM members LEFT OUTER JOIN labels USING (msno);

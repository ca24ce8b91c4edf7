SELECT count(*) FROM transactions JOIN labels USING (msno);
